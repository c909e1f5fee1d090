"""Zero-argument super() and __class__ inside with bodies and try/finally parts, private
name mangling (self.__x, __x locals, __x globals), nested classes, class bodies with loops
at script level, __init_subclass__, dataclasses, classmethods using super()."""
import contextlib
import dataclasses

_Child__shared = "mangled module global"


class Base:
    registry = []

    def __init_subclass__(cls, tag="none", **kwargs):
        super().__init_subclass__(**kwargs)
        with contextlib.nullcontext():
            Base.registry.append((cls.__name__, tag))

    def greet(self, who):
        return f"Base greets {who}"

    @classmethod
    def create(cls, *args):
        return cls(*args)

    def __repr__(self):
        return f"<{type(self).__name__}>"


class Child(Base, tag="child"):
    def __init__(self, n=1):
        self.__n = n
        with contextlib.nullcontext():
            super().__init__()
            self.__history = [n]

    def greet(self, who):
        with contextlib.nullcontext():
            base = super().greet(who)
            for i in range(self.__n):
                base += "!"
        try:
            kind = __class__.__name__
        finally:
            kind += "/" + super().__repr__()
        return base, kind

    @classmethod
    def create(cls, *args):
        with contextlib.nullcontext():
            made = super().create(*args)
            made.__history.append("created")
        return made

    def private(self):
        __local = self.__n * 2
        with contextlib.nullcontext():
            __local += 1
            value = __shared
        return __local, value, self.__history, self._Child__n

    def lambdas_with_super(self):
        with contextlib.nullcontext():
            getter = lambda: __class__
            items = [type(self).__mro__.index(cls) for cls in (__class__, Base)]
        return getter().__name__, items


class GrandChild(Child, tag="grand"):
    def greet(self, who):
        try:
            result = super().greet(who.upper())
        finally:
            note = "grand finally"
        return result, note

    class Inner:
        def method(self):
            with contextlib.nullcontext():
                return __class__.__qualname__


@dataclasses.dataclass
class Record:
    name: str
    values: list = dataclasses.field(default_factory=list)

    def total(self):
        with contextlib.nullcontext():
            return sum(self.values)

    def __post_init__(self):
        for v in self.values:
            if v < 0:
                raise ValueError("negative")


class Counter(dict):
    def __setitem__(self, key, value):
        with contextlib.nullcontext():
            super().__setitem__(key, value * 2)

    def __getitem__(self, key):
        for _ in range(1):
            return super().__getitem__(key) + 1


class Table:
    rows = []
    for i in range(3):
        rows.append(i * i)
    while len(rows) < 5:
        rows.append(0)
    with contextlib.nullcontext():
        columns = {name: len(name) for name in ("a", "bb")}
    del i


print(Child(2).greet("bob"))
print(GrandChild(1).greet("amy"))
print(Child.create(3).private())
print(Child().lambdas_with_super())
print(GrandChild.Inner().method(), GrandChild.Inner.method.__qualname__)
print(Base.registry)
print(Record("r", [1, 2]).total(), Record("e"))
try:
    Record("bad", [-1])
except ValueError as exc:
    print("rejected", exc)
c = Counter()
c["a"] = 5
print(c["a"], dict(c))
print(Table.rows, Table.columns, hasattr(Table, "i"))
print([k for k in vars(Child) if "__" in k])
for cls in (Base, Child, GrandChild):
    print(cls.__qualname__, [c.__name__ for c in cls.__mro__], cls.create().greet("x"))
