"""Methods with zero-argument super(), private names, decorators, defaults, *args/**kwargs."""
import functools
import os
import inspect


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        print("call", fn.__qualname__)
        return fn(*args, **kwargs)

    return wrapper


class Base:
    def describe(self, items):
        return [f"base {i}" for i in items]


class Child(Base):
    def __init__(self):
        self.__secret = 41

    def describe(self, items):
        out = []
        for item in items:
            with open(os.devnull):
                out.append(super().describe([item])[0] + " child")
                self.__secret += 1
        return out, self.__secret

    @logged
    def signature(self, a, b=2, *args, c, d=4, **kwargs):
        total = a + b + c + d
        for x in args:
            total += x
        return total, sorted(kwargs)

    @staticmethod
    def static(n):
        return [i for i in range(n) if i % 2]

    @classmethod
    def build(cls, n):
        objs = []
        while len(objs) < n:
            objs.append(cls())
        return len(objs)


c = Child()
print(c.describe(["x", "y"]))
print(c.signature(1, 2, 3, 4, c=5, z=1, y=2))
print(Child.static(5), Child.build(3))
print(Child.describe.__qualname__, Child.signature.__qualname__, Child.signature.__name__)
print(inspect.signature(Child.signature))
print(inspect.signature(Child.describe))


def recurse(n):
    if n <= 1:
        return [1]
    for _ in range(1):
        return recurse(n - 1) + [n]


print(recurse(5))
