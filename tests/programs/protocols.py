"""Protocol exceptions handled by the interpreter: properties raising AttributeError under
getattr(default)/hasattr, __getitem__ raising IndexError to end old-style iteration,
next(it, default), iterators whose __iter__ returns self, __getattr__, __missing__."""


class Lazy:
    def __init__(self, ready):
        self.ready = ready

    @property
    def value(self):
        for _ in range(1):
            if not self.ready:
                raise AttributeError("value not ready")
        return 42

    def helper(self):
        while True:
            raise AttributeError("from helper")

    @property
    def indirect(self):
        return self.helper()


class OldSeq:
    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        for _ in range(1):
            if index >= self.n:
                raise IndexError(index)
        return index * index


class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        for _ in range(1):
            if self.current <= 0:
                raise StopIteration
        self.current -= 1
        return self.current


class Dynamic:
    def __getattr__(self, name):
        for prefix in ("get_",):
            if name.startswith(prefix):
                return lambda: name[len(prefix):]
        raise AttributeError(name)


class Defaulting(dict):
    def __missing__(self, key):
        for _ in range(1):
            if key == "boom":
                raise KeyError(key)
        return f"default for {key}"


def probe():
    out = []
    ready, waiting = Lazy(True), Lazy(False)
    out.append(getattr(ready, "value", "no"))
    out.append(getattr(waiting, "value", "no"))
    out.append((hasattr(ready, "value"), hasattr(waiting, "value")))
    out.append(getattr(waiting, "indirect", "indirect default"))
    out.append(hasattr(waiting, "indirect"))
    out.append(list(OldSeq(4)))
    out.append(3 in OldSeq(5))
    out.append([x for x in OldSeq(3)])
    it = Countdown(3)
    out.append(list(it))
    out.append(next(it, "exhausted"))
    out.append(next(iter([]), "empty"))
    out.append(sum(Countdown(4)))
    d = Dynamic()
    out.append(d.get_name())
    out.append(getattr(d, "other", "missing attr"))
    out.append(hasattr(d, "whatever"))
    dd = Defaulting(a=1)
    out.append((dd["a"], dd["zz"]))
    try:
        dd["boom"]
    except KeyError as exc:
        out.append(f"KeyError {exc}")
    try:
        waiting.value
    except AttributeError as exc:
        out.append(f"direct: {exc}")
    return out


def getattr_in_loop(objects):
    found = []
    for obj in objects:
        found.append(getattr(obj, "value", None))
        if not hasattr(obj, "value"):
            continue
    return found


print(probe())
print(getattr_in_loop([Lazy(True), Lazy(False), 3]))
unpack_a, unpack_b = Countdown(2)
print(unpack_a, unpack_b)
print(dict(zip("abc", Countdown(3))))
for index, sq in enumerate(OldSeq(3)):
    print(index, sq)
Lazy(False).value
