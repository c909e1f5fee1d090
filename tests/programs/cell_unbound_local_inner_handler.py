"""Reading a local after `del` or after an `except ... as name` clause (which unbinds the
name), inside with bodies and try/finally parts: UnboundLocalError with the same message."""
import contextlib


def after_del():
    value = 1
    with contextlib.nullcontext():
        del value
        try:
            value
        except UnboundLocalError as exc:
            print("after del:", exc)
    return "ok"


def after_handler():
    try:
        raise KeyError("k")
    except KeyError as err:
        pass
    finally:
        try:
            print(err)
        except UnboundLocalError as exc:
            print("after handler:", exc)


def uncaught():
    with contextlib.nullcontext():
        count = 0
        del count
        count += 1


print(after_del())
after_handler()
uncaught()
