"""An exception that cannot be raised (in __del__) is reported by sys.unraisablehook with the
user's file and line."""
import gc


def fail(n):
    for i in range(n):
        if i == 1:
            raise ValueError("in __del__")


class Holder:
    def __del__(self):
        fail(2)


def run():
    for _ in range(1):
        h = Holder()
        del h
        gc.collect()
    print("done")


run()
