"""A loop over an object whose __iter__ returns an iterator without __iter__ (only
__next__), inside a try that handles TypeError, and in a with body: the loop runs normally."""
import contextlib


class Cursor:
    def __init__(self, n):
        self.i, self.n = 0, n

    def __next__(self):
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return self.i


class Table:
    def __iter__(self):
        return Cursor(3)


def total_guarded(rows):
    try:
        acc = 0
        for v in rows:
            acc += v
        return acc
    except TypeError:
        return "not iterable"


def total_in_with(rows):
    acc = 0
    with contextlib.nullcontext():
        for v in rows:
            acc += v
    return acc


def total_in_comprehension_and_loop(rows):
    out = []
    for a in [1, 2]:
        for v in rows:
            out.append(a * v)
    return out


print(total_guarded(Table()), total_guarded(5))
print(total_in_with(Table()))
print(total_in_comprehension_and_loop(Table()))
