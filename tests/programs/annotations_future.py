"""`from __future__ import annotations`: module-level annotations are stored as strings
exactly as the compiler writes them."""
from __future__ import annotations

import contextlib
import typing

size: int = 3
pairs: typing.Dict[str, typing.Tuple[int, ...]] = {}
maybe: typing.Optional["Config"] = None
union: int | None = None
nested: typing.Callable[[int, str], typing.List[typing.Any]]
call_ann: dict(a=1)["a"] = 5
weird: (lambda: int)() = 1
constant: -1 = 2
lit: typing.Literal["a", 'b'] = "a"
expr: 1 + 2 * 3 = 0
attr: typing.List[int] if size else None = None


class Config:
    value: Config | None = None

    def method(self, other: Config) -> Config:
        with contextlib.nullcontext():
            kept: typing.List[Config] = [other]
        return kept[0]


for step in range(2):
    loop_var: typing.Set[int] = {step}
print(__annotations__)
print(Config.__annotations__, Config.method.__annotations__)
print(Config().method(Config()).value, size, loop_var)
