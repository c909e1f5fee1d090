"""Managers that suppress exceptions (contextlib.suppress, __exit__ returning True), with the
body left by break/continue/return in earlier iterations (the signal of a suppressed body)."""
import contextlib


class Swallow:
    def __init__(self, log, *types):
        self.log, self.types = log, types

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and issubclass(et, self.types):
            self.log.append(f"swallowed {et.__name__}: {ev}")
            return True
        return None


@contextlib.contextmanager
def forgiving(log):
    try:
        yield "resource"
    except ValueError as exc:
        log.append(f"generator manager handled {exc}")


def generator_manager():
    log = []
    for word in ("a", "bad", "c"):
        with forgiving(log) as res:
            if word == "a":
                continue
            log.append(res)
            raise ValueError(word)
        log.append(f"after {word}")
    return log


def loop_signals(n):
    out = []
    for i in range(n):
        with contextlib.suppress(ValueError):
            if i == 1:
                continue
            if i == 2:
                raise ValueError(i)
            if i == 5:
                break
            out.append(i)
        out.append(-i)
    return out


def return_then_suppress(values):
    log = []
    for v in values:
        with Swallow(log, KeyError):
            if v == "ret":
                return "returned", log
            {}[v]
        log.append(f"after {v}")
    return "end", log


def nested_suppress():
    log = []
    with Swallow(log, TypeError):
        with Swallow(log, KeyError):
            with contextlib.suppress(IndexError):
                [][1]
            log.append("inner continues")
            {}["k"]
        log.append("not reached")
        None + 1
    log.append("outer continues")
    return log


def suppress_in_while():
    log = []
    k = 0
    while k < 6:
        k += 1
        with Swallow(log, ZeroDivisionError):
            if k % 2:
                continue
            log.append(10 // (k - 4))
    return log, k


class Job:
    def __init__(self):
        self.done = []

    def run(self, steps):
        for s in steps:
            with contextlib.suppress(AttributeError):
                if s is None:
                    break
                self.done.append(s.upper())
        return self.done


def not_suppressed():
    log = []
    try:
        with Swallow(log, KeyError):
            raise ValueError("passes through")
    except ValueError as exc:
        log.append(f"caught {exc}")
    return log


print(loop_signals(7))
print(return_then_suppress(["a", "b", "ret", "c"]))
print(return_then_suppress(["a"]))
print(nested_suppress())
print(suppress_in_while())
print(Job().run(["a", 1, "b", None, "c"]))
print(not_suppressed())
print(generator_manager())

log = []
for i in range(4):
    with Swallow(log, RuntimeError):
        if i == 0:
            continue
        if i == 2:
            raise RuntimeError("script level")
        log.append(i)
    log.append(f"end {i}")
print(log)
