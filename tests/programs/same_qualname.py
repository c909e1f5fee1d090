"""Several functions with the same qualified name: property getter/setter/deleter,
typing.overload, conditional definitions and redefinitions."""
import sys
import typing


class Temperature:
    def __init__(self):
        self._c = 0.0

    @property
    def celsius(self):
        for _ in range(1):
            return self._c

    @celsius.setter
    def celsius(self, value):
        for _ in range(1):
            self._c = float(value)

    @celsius.deleter
    def celsius(self):
        for _ in range(1):
            self._c = None


@typing.overload
def double(x: int) -> int: ...
@typing.overload
def double(x: str) -> str: ...
def double(x):
    for _ in range(1):
        return x * 2


if sys.version_info >= (3, 0):
    def version():
        for _ in range(1):
            return "three"
else:
    def version():
        for _ in range(1):
            return "two"


def redefined():
    for _ in range(1):
        return "first"


first_redefined = redefined


def redefined():
    for _ in range(1):
        return "second"


t = Temperature()
t.celsius = 21
print(t.celsius)
del t.celsius
print(t.celsius)
print(double(2), double("ab"), version(), first_redefined(), redefined())
