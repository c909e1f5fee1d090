"""A `for` loop calls iter() on its iterable exactly once, and the object it returns needs
only __next__ (no __iter__): the saved iterator must not be passed to iter() again."""


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
        print("Table.__iter__ called")
        return Cursor(3)


class SelfIter:
    def __init__(self):
        self.left = 2

    def __iter__(self):
        print("SelfIter.__iter__ called")
        return self

    def __next__(self):
        if not self.left:
            raise StopIteration
        self.left -= 1
        return self.left


def total(rows):
    acc = 0
    for value in rows:
        acc += value
    return acc


print(total(SelfIter()))
print(total(Table()))
