"""NameError for a free variable (a closure reading an enclosing variable not bound yet)
stays a NameError (not UnboundLocalError), when raised inside a with body, in a nested
function called from a with body, or from a global name that does not exist."""
import contextlib


def outer():
    log = []

    def inner():
        return later

    def middle():
        with contextlib.nullcontext():
            return later

    for fn in (inner, middle):
        try:
            with contextlib.nullcontext():
                fn()
        except UnboundLocalError as exc:
            log.append(("UnboundLocalError", fn.__name__))
        except NameError as exc:
            log.append(("NameError", fn.__name__))
    try:
        with contextlib.nullcontext():
            undefined_global_name
    except UnboundLocalError:
        log.append("UnboundLocalError global")
    except NameError:
        log.append("NameError global")
    later = 1
    return log


print(outer())
