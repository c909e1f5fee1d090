"""locals() and dir() called inside a comprehension of a function: on Python 3.12+
(inlined comprehensions) they list the function's own variables too; such a function is left
as it was, next to one that is vaccinated."""
import contextlib


def names_seen(items):
    total = 0
    for item in items:
        total += item
    with contextlib.nullcontext():
        inside = [sorted(locals()) for _ in range(1)][0]
    outside = [sorted(locals()) for _ in range(1)][0]
    return inside, outside, [dir() for _ in range(1)][0]


print(names_seen([1, 2]))


def plain(items):
    total = 0
    for item in items:
        total += item
    return total


print(plain([3, 4]))
