# requires-python: 3.11
"""Exception groups and except*, with finally, loops and with-bodies around them."""
import contextlib


def raise_group(kinds):
    errors = []
    for k in kinds:
        if k == "v":
            errors.append(ValueError(f"bad {k}"))
        elif k == "t":
            errors.append(TypeError(f"type {k}"))
        else:
            errors.append(KeyError(k))
    raise ExceptionGroup("several", errors)


def star_handlers(kinds):
    log = []
    try:
        raise_group(kinds)
    except* ValueError as group:
        log.append(("values", [str(e) for e in group.exceptions]))
    except* TypeError as group:
        log.append(("types", len(group.exceptions)))
    return log


def star_with_finally(kinds):
    log = []
    try:
        try:
            raise_group(kinds)
        except* ValueError:
            log.append("values handled")
        finally:
            log.append("finally")
    except* KeyError as rest:
        log.append(("outer keys", [e.args[0] for e in rest.exceptions]))
    return log


def star_in_loop(batches):
    log = []
    for batch in batches:
        with contextlib.nullcontext():
            try:
                raise_group(batch)
            except* ValueError:
                log.append(f"v in {batch}")
            except* (TypeError, KeyError) as g:
                log.append(f"other {len(g.exceptions)} in {batch}")
            else:
                log.append("no error")
    return log


def naked_exception_wrapped():
    try:
        raise OSError("plain")
    except* OSError as group:
        result = type(group).__name__, [str(e) for e in group.exceptions]
    return result


def group_caught_plainly():
    try:
        raise_group("vt")
    except ExceptionGroup as eg:
        matched, rest = eg.split(ValueError)
        return [str(e) for e in matched.exceptions], [str(e) for e in rest.exceptions]


def add_notes():
    try:
        try:
            raise ValueError("with note")
        except ValueError as exc:
            exc.add_note("extra context")
            raise
    except ValueError as exc:
        return exc.__notes__


print(star_handlers("vtv"))
print(star_handlers("t"))
print(star_with_finally("vk"))
print(star_in_loop(["v", "tk", "vt"]))
print(naked_exception_wrapped())
print(group_caught_plainly())
print(add_notes())
try:
    star_handlers("vk")
except* KeyError as leftover:
    print("script got", [e.args for e in leftover.exceptions])
