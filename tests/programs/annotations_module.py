"""Annotations: module-level `x: int = 1` and bare `x: int`, annotations inside loops and
with bodies at script level, local annotations in functions (first bound in cells), class
annotations; annotation side effects and evaluation order."""
import contextlib
import typing

ORDER = []


def note(label, value):
    ORDER.append(label)
    return value


count: int = 1
name: str
ratio: "float" = note("value ratio", 0.5)
table: typing.Dict[str, typing.List[int]] = {}
ordered: note("annotation ordered", list) = note("value ordered", [])


class Config:
    lr: float = 0.1
    steps: int
    tags: typing.Tuple[str, ...] = ("a",)

    def scaled(self, factor: float) -> float:
        with contextlib.nullcontext():
            result: float = self.lr * factor
            unused: int
        return result


def local_annotations(n: int) -> typing.List[int]:
    out: typing.List[int] = []
    for i in range(n):
        with contextlib.nullcontext():
            value: int = i * i
            label: str
        out.append(value)
    try:
        label
    except NameError as exc:
        out.append(type(exc).__name__)
    return out


for step in range(2):
    loss: float = 1.0 / (step + 1)
    with contextlib.nullcontext():
        best: float = loss
print(count, ratio, table, ordered, loss, best)
print(sorted(__annotations__), __annotations__["count"], __annotations__["ratio"])
print(__annotations__["ordered"], __annotations__.get("loss"), __annotations__.get("best"))
print(ORDER)
print("name" in globals(), Config.__annotations__, Config().scaled(2))
print(local_annotations(3), local_annotations.__annotations__)
print(typing.get_type_hints(Config), typing.get_type_hints(local_annotations))
