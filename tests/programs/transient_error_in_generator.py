"""A generator that fails with a transient-looking error (TimeoutError) while a loop pulls
from it: the generator is finished after raising, so the loop cannot go on with it; the
program must fail with the TimeoutError instead of ending the loop early."""


def stream():
    yield 1
    yield 2
    raise TimeoutError("network timed out")


def consume():
    total = 0
    for x in stream():
        total += x
        print("got", x)
    return total


print("total", consume())
