"""Decorators (functools.wraps, classmethod, staticmethod, property, custom with arguments),
defaults evaluated once, *args/**kwargs/keyword-only/positional-only parameters,
inspect.signature, __name__/__qualname__/__doc__/__defaults__/__module__ of functions."""
import contextlib
import functools
import inspect

CALLS = []


def trace(label):
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            CALLS.append((label, fn.__name__))
            for _ in range(1):
                result = fn(*args, **kwargs)
            return result

        return wrapper

    return decorator


def counting(fn):
    fn.count = 0

    def inner(*a, **k):
        inner.count += 1
        return fn(*a, **k)

    inner.count = 0
    return inner


def make_default():
    CALLS.append("default evaluated")
    return []


def defaults(item, bucket=make_default(), *, seen=set()):
    """Append to a shared default."""
    with contextlib.nullcontext():
        bucket.append(item)
        seen.add(item)
    return len(bucket), len(seen)


def positional_only(a, b=2, /, c=3, *args, d, e=5, **kwargs) -> tuple:
    for extra in args:
        a += extra
    return a, b, c, d, e, sorted(kwargs.items())


@trace("decorated")
def decorated(x: int, y: "str" = "y") -> str:
    """Decorated docstring.

        Indented second paragraph.
    """
    with contextlib.nullcontext():
        return f"{x}{y}"


@counting
def counted(n):
    while n:
        n -= 1
    return n


class Shape:
    """A shape."""

    instances = 0

    def __init__(self, side):
        with contextlib.nullcontext():
            self._side = side
            Shape.instances += 1

    def _get_side(self):
        for _ in range(1):
            return self._side

    def _set_side(self, value):
        with contextlib.nullcontext():
            if value < 0:
                raise ValueError("negative side")
            self._side = value

    def _del_side(self):
        try:
            del self._side
        finally:
            CALLS.append("deleted side")

    side = property(_get_side, _set_side, _del_side, "The side.")

    @property
    def name(self):
        """The name."""
        for _ in range(1):
            return f"shape {self._side}"

    @classmethod
    def unit(cls, *, times=1):
        with contextlib.nullcontext():
            return cls(1 * times)

    @staticmethod
    def area(side):
        for _ in range(1):
            return side * side

    @functools.cached_property
    def perimeter(self):
        with contextlib.nullcontext():
            CALLS.append("perimeter computed")
            return 4 * self._side

    @trace("method")
    def describe(self, prefix="", *rest, sep=" "):
        """Describe it."""
        with contextlib.nullcontext():
            return sep.join([prefix, type(self).__name__, str(self._side), *rest])


def show(fn):
    print(fn.__name__, fn.__qualname__, fn.__module__, repr(fn.__doc__))
    print("  ", inspect.signature(fn), fn.__defaults__, fn.__kwdefaults__)
    print("  ", fn.__annotations__, fn.__code__.co_argcount, fn.__code__.co_kwonlyargcount,
          fn.__code__.co_posonlyargcount if hasattr(fn.__code__, "co_posonlyargcount") else None)


for fn in (defaults, positional_only, decorated, decorated.__wrapped__, counted, Shape.__init__,
           Shape.unit, Shape.area, Shape.describe, Shape.side.fget, Shape.side.fset):
    show(fn)
print(defaults(1), defaults(2), defaults(3, []), defaults(4, seen=set()))
print(positional_only(1, d=4), positional_only(1, 2, 3, 4, 5, d=6, z=1, a=0))
try:
    positional_only(a=1, d=2)
except TypeError as exc:
    print("TypeError", exc)
print(decorated(1), decorated(2, y="z"), counted(5), counted(3), counted.count)
s = Shape.unit(times=3)
print(s.side, Shape.area(s.side), s.perimeter, s.perimeter, s.describe("a", "b", "c", sep="-"))
s.side = 7
print(s.side, s.name, Shape.instances, Shape.__doc__, Shape.side.__doc__, Shape.name.__doc__)
try:
    s.side = -1
except ValueError as exc:
    print("setter refused:", exc)
del s.side
print(hasattr(s, "_side"), CALLS)
print(inspect.getdoc(decorated), inspect.getdoc(Shape.describe))
