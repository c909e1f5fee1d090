"""A generator that fails with a transient-looking error (TimeoutError) while a loop pulls
from it: the generator is finished after raising, so an automatic retry cannot go on with it;
the program must fail with the TimeoutError instead of ending the loop early.

The differential harness turns daifu's automatic policies off (DAIFU_POLICIES=0); this
program turns them back on before anything crashes (the original ignores the variable), since
the retry is what it checks."""
import os

os.environ["DAIFU_POLICIES"] = "1"


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
