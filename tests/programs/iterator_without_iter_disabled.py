"""With daifu's runtime disabled (DAIFU_DISABLE=1, set before anything crashes; the original
ignores the variable), a vaccinated program keeps plain semantics: a loop over an object whose
__iter__ returns an iterator without __iter__ (only __next__) still runs."""
import os

os.environ["DAIFU_DISABLE"] = "1"


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


def total(rows):
    acc = 0
    for v in rows:
        acc += v
    return acc


print(total(Table()))
