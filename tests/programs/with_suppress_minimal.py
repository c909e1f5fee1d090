"""A manager that suppresses the exception of its body: the code after the `with` runs."""
import contextlib


def suppressed():
    with contextlib.suppress(ZeroDivisionError):
        print("before")
        1 / 0
    return "after the with"


print(suppressed())
