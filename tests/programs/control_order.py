"""The order of __exit__, finally and handlers when break/continue/return/exceptions leave
nested with and try statements inside loops (all combinations of nesting)."""


class M:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def __enter__(self):
        self.log.append(f"enter {self.name}")

    def __exit__(self, et, ev, tb):
        self.log.append(f"exit {self.name} {et.__name__ if et else ''}".strip())


def with_in_try(action):
    log = []
    for i in range(2):
        try:
            with M(log, f"m{i}"):
                if action == "break":
                    break
                if action == "continue":
                    continue
                if action == "return":
                    return log + ["returned"]
                if action == "raise":
                    raise KeyError(i)
                log.append("body end")
        except KeyError as exc:
            log.append(f"handler {exc}")
            if i == 0:
                continue
        else:
            log.append("else")
        finally:
            log.append(f"finally {i}")
        log.append(f"after try {i}")
    return log


def try_in_with(action):
    log = []
    for i in range(2):
        with M(log, f"m{i}"):
            try:
                if action == "break":
                    break
                if action == "continue":
                    continue
                if action == "return":
                    return log + ["returned"]
                if action == "raise":
                    raise KeyError(i)
            except KeyError:
                log.append("handler")
                break
            finally:
                log.append(f"finally {i}")
            log.append("with body end")
        log.append(f"after with {i}")
    return log


def nested_finally_return():
    log = []
    try:
        try:
            with M(log, "inner"):
                return log
        finally:
            log.append("inner finally")
    finally:
        log.append("outer finally")


for action in ("none", "break", "continue", "return", "raise"):
    print(action, with_in_try(action))
    print(action, try_in_with(action))
print(nested_finally_return())
