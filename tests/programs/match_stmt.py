# requires-python: 3.10
"""match statements, with captures, guards and break inside a case."""
import os


def classify(items):
    out = []
    for item in items:
        match item:
            case {"kind": "point", "x": x, "y": y}:
                out.append(("point", x + y))
            case [first, *rest]:
                out.append(("seq", first, len(rest)))
            case int(n) if n > 10:
                with open(os.devnull):
                    out.append(("big", n))
                    if n > 100:
                        break
            case _:
                out.append(("other", item))
    return out, item


print(classify([{"kind": "point", "x": 1, "y": 2}, [1, 2, 3], 50, "z", 500, 7]))
