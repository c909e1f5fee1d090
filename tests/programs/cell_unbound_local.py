"""Reading a local before it is bound, inside a `with` body: UnboundLocalError, whose type
and message a cell (where the variable is a free variable) must not change."""
import contextlib


def caught():
    try:
        with contextlib.nullcontext():
            print(total)
    except UnboundLocalError as exc:
        print("caught", type(exc).__name__)
    total = 1
    return total


def uncaught():
    with contextlib.nullcontext():
        total += 1
    total = 0


print(caught())
uncaught()
