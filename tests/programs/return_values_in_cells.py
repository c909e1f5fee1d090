"""Return values of every shape leaving with bodies and try/finally parts."""
import contextlib


def starred(a, b):
    with contextlib.nullcontext():
        return *a, b


def walrus():
    with contextlib.nullcontext():
        return (n := 5), n


def lam():
    with contextlib.nullcontext():
        return lambda: 1


def cond(c):
    try:
        return "a" if c else "b"
    finally:
        pass


def multi_line():
    with contextlib.nullcontext():
        return (
            1,  # one
            2,
        )


def nested_tuple():
    with contextlib.nullcontext():
        return ((1,),)


print(starred([1, 2], 3), walrus(), lam()(), cond(True), cond(False), multi_line(), nested_tuple())


def bare(flag):
    with contextlib.nullcontext():
        if flag:
            return
        print("not returned")


print(bare(True), bare(False))
