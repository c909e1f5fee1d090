# requires-python: 3.10
"""match with captures, guards, class patterns, or-patterns, star and mapping rest, inside
with bodies, loops, try/finally and at script level; captures visible after the match."""
import contextlib
from dataclasses import dataclass


@dataclass
class Point:
    x: int
    y: int


class Circle:
    __match_args__ = ("radius",)

    def __init__(self, radius):
        self.radius = radius


def describe(shape):
    with contextlib.nullcontext():
        match shape:
            case Point(x=0, y=0):
                result = "origin"
            case Point(x=0, y=y) | Point(x=y, y=0):
                result = f"on an axis at {y}"
            case Point(x, y) if x == y:
                result = f"diagonal {x}"
            case Circle(r) if r > 10:
                result = f"big circle {r}"
            case Circle(radius=r):
                result = f"circle {r}"
            case [Point() as p, *others]:
                result = f"points from {p} plus {len(others)}"
            case {"type": "rect", "w": w, "h": h}:
                result = f"rect {w}x{h}"
            case (1 | 2 | 3) as small:
                result = f"small {small}"
            case str() | bytes():
                result = "text"
            case _:
                result = "unknown"
    return result


def commands(lines):
    log = []
    for line in lines:
        try:
            match line.split():
                case ["quit"]:
                    log.append("quitting")
                    break
                case ["skip", *_]:
                    continue
                case ["go", direction] if direction in ("n", "s"):
                    log.append(f"go {direction}")
                case ["go", _]:
                    log.append("bad direction")
                case ["say", *words]:
                    log.append(" ".join(words))
                case []:
                    return log, "empty line"
        finally:
            log.append(f"done {line!r}")
    return log, "end"


def capture_leaks(value):
    match value:
        case [a, b]:
            pass
        case {"k": a}:
            b = None
        case _:
            a = b = "default"
    return a, b


def literal_and_value_patterns(v):
    import enum

    class Color(enum.Enum):
        RED = 1
        GREEN = 2

    for candidate in (v, Color(v) if v in (1, 2) else None):
        match candidate:
            case Color.RED:
                return "red"
            case None:
                continue
            case True:
                return "true"
            case 2:
                return "two"
            case -1.5:
                return "negative"
    return "nothing"


shapes = [Point(0, 0), Point(0, 5), Point(3, 0), Point(2, 2), Point(1, 2), Circle(20), Circle(3),
          [Point(1, 1), 2, 3], {"type": "rect", "w": 2, "h": 3, "z": 0}, 2, "s", b"b", 9.5]
for s in shapes:
    print(describe(s))
print(commands(["go n", "skip this", "go x", "say hello world", "quit", "go s"]))
print(commands(["go s", ""]))
print(capture_leaks([1, 2]), capture_leaks({"k": 3}), capture_leaks(0))
print([literal_and_value_patterns(v) for v in (1, 2, True, -1.5, 7)])
for item in [(1, 2), [3], {"a": 1}]:
    match item:
        case (first, second):
            print("pair", first, second)
        case [only]:
            print("single", only)
        case {"a": value}:
            print("mapping", value)
print(first, second, only, value)
