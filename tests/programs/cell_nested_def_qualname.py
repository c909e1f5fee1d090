"""Functions, classes and lambdas defined inside a `with` body (or a try with finally) of a
function keep the __qualname__ they have in the original."""
import contextlib


def factory():
    with contextlib.nullcontext():
        def helper():
            return 1

        class Local(Exception):
            pass

        lam = lambda: 0
    try:
        def in_try():
            pass
    finally:
        pass
    return helper, Local, lam, in_try


for obj in factory():
    print(obj.__qualname__)
helper, Local, lam, in_try = factory()
print(repr(helper).split(" at ")[0])
raise Local("qualname shows in the traceback of a local exception class")
