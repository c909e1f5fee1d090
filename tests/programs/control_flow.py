"""break/continue/return from nested loops, loop else, while, if/elif, with managers."""
import contextlib


class Recorder:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def __enter__(self):
        self.log.append(f"enter {self.name}")
        return self

    def __exit__(self, *exc):
        self.log.append(f"exit {self.name} {exc[0].__name__ if exc[0] else None}")
        return False


def nested(n):
    log = []
    for i in range(n):
        for j in range(n):
            if j == 2:
                continue
            if i * j > 6:
                break
            log.append((i, j))
        else:
            log.append(("inner done", i))
        if i == 4:
            break
    else:
        log.append("outer done")
    return log


def with_flow(n):
    log = []
    for i in range(n):
        with Recorder(f"a{i}", log) as rec, Recorder(f"b{i}", log):
            log.append(rec.name)
            if i == 1:
                continue
            if i == 3:
                break
            log.append("after")
    return log


def return_from_with(x):
    log = []
    with Recorder("r", log):
        if x > 1:
            return ("early", log)
        log.append("late")
    return ("normal", log)


def while_loop(limit):
    total, k = 0, 0
    while k < limit:
        k += 1
        if k % 3 == 0:
            continue
        total += k
        if total > 40:
            break
    else:
        total = -total
    return total, k


def elifs(values):
    out = []
    for v in values:
        if v < 0:
            out.append("neg")
        elif v == 0:
            out.append("zero")
        elif v < 10:
            out.append("small")
        else:
            out.append("big")
    return out


def suppressed():
    log = []
    for i in range(3):
        with contextlib.suppress(ZeroDivisionError):
            log.append(1 / (i - 1))
        log.append(i)
    return log


print(nested(5))
print(with_flow(5))
print(return_from_with(2), return_from_with(0))
print(while_loop(10), while_loop(100))
print(elifs([-1, 0, 5, 50]))
print(suppressed())
