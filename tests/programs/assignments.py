"""Star assignment, chained and multiple targets, swaps, slice assignment, augmented
assignment to names, attributes and subscripts (target evaluated once), in cells and not."""
import contextlib

CALLS = []


def key(k):
    CALLS.append(f"key {k}")
    return k


class Acc:
    def __init__(self):
        self.total = 0
        self.items = []

    def __iadd__(self, other):
        CALLS.append(f"iadd {other}")
        self.items.append(other)
        return self


def assignments(values):
    first, *middle, last = values
    with contextlib.nullcontext():
        a = b = c = len(values)
        x, (y, *z) = values[0], values[1:]
        x, y = y, x
        *init, tail = "abc"
        head, *_ = range(3)
    values[1:3] = ["s1", "s2", "s3"]
    return first, middle, last, a, b, c, x, y, z, init, tail, head, values


def augmented():
    count = 0
    obj = Acc()
    table = {"a": 1}
    grid = [[0, 0], [0, 0]]
    for i in range(3):
        with contextlib.nullcontext():
            count += i
            count *= 2
            obj.total += i
            table[key("a")] += 10
            grid[key(i % 2)][i % 2] -= 1
            obj += i
            text = "x"
            text *= 3
            bits = 0b1010
            bits ^= 0b0110
            bits <<= 1
            bits |= 1
            power = 2
            power **= 5
            power //= 3
            power %= 7
            mat = 6.0
            mat /= 4
    return count, obj.total, obj.items, table, grid, text, bits, power, mat


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        with contextlib.nullcontext():
            self.x, self.y = x, y

    def move(self, dx, dy):
        try:
            self.x += dx
            self.y += dy
        finally:
            pass
        return self.x, self.y


print(assignments([1, 2, 3, 4, 5]))
print(augmented())
print(CALLS)
p = Point(1, 2)
print(p.move(3, 4))
try:
    p.z = 1
except AttributeError as exc:
    print("slots:", type(exc).__name__)
for i in range(2):
    with contextlib.nullcontext():
        g1, *g_rest = [i, i + 1, i + 2]
        g_total = 0
        g_total += sum(g_rest)
print(g1, g_rest, g_total)
