"""with: several items, tuple/attribute/subscript targets, suppressing managers, raising __exit__."""
import contextlib
import io


class Manager:
    def __init__(self, name, log, value=None, raise_on_exit=None):
        self.name, self.log, self.value, self.raise_on_exit = name, log, value, raise_on_exit

    def __enter__(self):
        self.log.append(f"enter {self.name}")
        return self.value if self.value is not None else self

    def __exit__(self, et, ev, tb):
        self.log.append(f"exit {self.name} {et.__name__ if et else '-'}")
        if self.raise_on_exit is not None:
            raise self.raise_on_exit
        return False


class Holder:
    pass


@contextlib.contextmanager
def tagged(log, tag):
    log.append(f"<{tag}>")
    try:
        yield tag.upper()
    finally:
        log.append(f"</{tag}>")


def multi_items():
    log = []
    h = Holder()
    slots = [None, None]
    with Manager("a", log, (1, 2)) as (x, y), Manager("b", log) as h.attr, Manager("c", log, 9) as slots[1]:
        log.append((x, y, h.attr.name, slots))
    with tagged(log, "p") as p, tagged(log, "q") as q:
        log.append(p + q)
    return log, x, y


def nested_targets():
    log = []
    with Manager("n", log, ([1, 2], {"k": 3})) as ([a, b], d):
        log.append((a, b, d["k"]))
    with Manager("star", log, (1, 2, 3, 4)) as (first, *rest):
        log.append((first, rest))
    return log


def exit_raises():
    log = []
    try:
        with Manager("bad", log, raise_on_exit=KeyError("from exit")):
            log.append("body")
        log.append("not reached")
    except KeyError as exc:
        log.append(f"caught {exc!r}")
    try:
        with Manager("bad2", log, raise_on_exit=RuntimeError("exit2")):
            raise ValueError("body error")
    except RuntimeError as exc:
        log.append(f"caught {exc!r} context={exc.__context__!r}")
    return log


def enter_fails():
    log = []

    class Bad:
        def __enter__(self):
            raise LookupError("no enter")

        def __exit__(self, *a):
            log.append("never")

    try:
        with Manager("outer", log), Bad():
            log.append("body")
    except LookupError as exc:
        log.append(str(exc))
    return log


def redirect():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for i in range(3):
            print("line", i)
    return buf.getvalue().splitlines()


def exit_stack(n):
    log = []
    with contextlib.ExitStack() as stack:
        values = [stack.enter_context(Manager(f"m{i}", log, i)) for i in range(n)]
        log.append(values)
    return log


def with_returns_value(flag):
    log = []
    with Manager("r", log) as m:
        if flag:
            return m.name, log
        value = m.name * 2
    return value, log


def with_inside_with_returns():
    log = []
    with Manager("o", log):
        with Manager("i", log):
            for k in range(5):
                if k == 2:
                    return k, log
    return None, log


def manager_reused():
    log = []
    m = Manager("again", log)
    for _ in range(2):
        with m as same:
            log.append(same is m)
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), "data.txt")
    with open(path, "w") as out:
        out.write("first line\nsecond\n")
    with open(path) as fh, io.StringIO("abc") as s:
        first = fh.readline()
        log.append((first[:3], s.read()))
    return log, fh.closed, s.closed


print(multi_items())
print(nested_targets())
print(exit_raises())
print(enter_fails())
print(redirect())
print(exit_stack(3))
print(with_returns_value(True), with_returns_value(False))
print(with_inside_with_returns())
print(manager_reused())

log = []
for name in ("s1", "s2"):
    with Manager(name, log) as mgr, tagged(log, name) as tag:
        log.append((mgr.name, tag))
print(log)
with Manager("last", log) as (obj):
    print(obj.name)
