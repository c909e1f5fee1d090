"""Suppressing managers built by a factory function, by a @contextmanager whose yield sits
inside `with suppress(...)`, and by an ExitStack: the body's exception is suppressed."""
import contextlib


def ignoring(*types):
    return contextlib.suppress(*types)


@contextlib.contextmanager
def quietly():
    with contextlib.suppress(KeyError):
        yield


def fail(kind):
    for _ in range(1):
        raise kind("planned")


def main():
    log = []
    with ignoring(ValueError):
        fail(ValueError)
    log.append("factory suppressed")
    with quietly():
        fail(KeyError)
    log.append("nested suppress in generator suppressed")
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.suppress(TypeError))
        fail(TypeError)
    log.append("exit stack suppressed")
    return log


print(main())
