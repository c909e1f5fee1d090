"""Recursion 600 levels deep through a `with` body: well under the default recursion limit
(1000) in the original; each cell adds a frame per level in the vaccinated program."""
import contextlib


def walk(n):
    with contextlib.nullcontext():
        if n == 0:
            return 0
        return 1 + walk(n - 1)


def walk_finally(n):
    try:
        with contextlib.nullcontext():
            if n == 0:
                return 0
            return 1 + walk_finally(n - 1)
    finally:
        pass


print(walk(600))
print(walk_finally(450))
