"""Managers chosen by an expression (a conditional, `or`, a list or dict element) and an
ExitStack with a function pushed on it: where one of them suppresses, the body's exception is
the program's own (handled), vaccinated or not."""
import contextlib

handlers = [contextlib.nullcontext(), contextlib.suppress(KeyError)]
by_name = {"keys": contextlib.suppress(KeyError), "none": contextlib.nullcontext()}


def fail(kind):
    for _ in range(1):
        raise kind("planned")


def main():
    log = []
    for quiet in (True, False):
        with contextlib.suppress(ValueError) if quiet else contextlib.nullcontext():
            if quiet:
                fail(ValueError)
        log.append(f"conditional {quiet}")
    with (False and contextlib.nullcontext()) or contextlib.suppress(IndexError):
        fail(IndexError)
    log.append("or suppressed")
    with handlers[1]:
        fail(KeyError)
    log.append("list element suppressed")
    with by_name["keys"]:
        fail(KeyError)
    log.append("dict value suppressed")
    with contextlib.ExitStack() as stack:
        stack.callback(log.append, "callback ran")
        stack.push(lambda *exc: True)  # an exit function that suppresses everything
        fail(RuntimeError)
    log.append("pushed function suppressed")
    return log


print(main())
