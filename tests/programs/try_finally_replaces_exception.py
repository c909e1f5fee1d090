"""A `finally` that raises replaces the exception of the try body; a handler of the new
exception catches it, so the first exception never crashes the program."""


def replaced():
    log = []
    try:
        try:
            raise ValueError("first")
        finally:
            log.append("finally raising")
            raise KeyError("second")
    except KeyError as exc:
        log.append(f"{exc!r} context={exc.__context__!r}")
    return log


print(replaced())
