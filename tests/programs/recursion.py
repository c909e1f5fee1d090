"""Recursion and mutual recursion through with bodies, try/finally and loops; deep recursion
that stays under the interpreter's recursion limit."""
import contextlib
import sys


def fib(n, memo=None):
    memo = {} if memo is None else memo
    with contextlib.nullcontext():
        if n < 2:
            return n
        if n in memo:
            return memo[n]
    try:
        memo[n] = fib(n - 1, memo) + fib(n - 2, memo)
    finally:
        pass
    return memo[n]


def is_even(n):
    for _ in range(1):
        if n == 0:
            return True
        with contextlib.nullcontext():
            return is_odd(n - 1)


def is_odd(n):
    try:
        if n == 0:
            return False
        return is_even(n - 1)
    finally:
        pass


def flatten(tree, depth=0):
    out = []
    for node in tree:
        with contextlib.nullcontext():
            if isinstance(node, list):
                out.extend(flatten(node, depth + 1))
                continue
            out.append((node, depth))
    return out


def depth(n):
    for _ in range(1):
        if n == 0:
            return 0
    return 1 + depth(n - 1)


def count_down_with(n):
    with contextlib.nullcontext():
        if n == 0:
            return "bottom"
        return count_down_with(n - 1)


def unbounded(n):
    for _ in range(1):
        return unbounded(n + 1)


print(fib(30), is_even(20), is_odd(7))
print(flatten([1, [2, [3, [4]], 5], [[6]]]))
print(depth(200), count_down_with(100))
try:
    unbounded(0)
except RecursionError as exc:
    print("RecursionError", "maximum recursion depth" in str(exc))
print(sys.getrecursionlimit())
for n in (5, 10):
    print(n, fib(n), depth(n), is_even(n))
