"""Closures, lambdas and comprehensions reading locals (live values), nonlocal/global, nested defs."""
import os
counter = 0


def make():
    scale = 2
    fns = [lambda x, k=k: x * k * scale for k in range(3)]
    getters = []
    for i in range(3):
        with open(os.devnull) as handle:
            first = handle.readline() + "x"
            getters.append(lambda: (scale, i, len(first)))
    scale = 10  # closures must see the rebinding
    return [f(1) for f in fns], [g() for g in getters]


def accumulate(values):
    total = 0

    def add(v):
        nonlocal total
        total += v

    for v in values:
        add(v)
    squares = {v: v * v for v in values if v % 2}
    gen = sum(x for x in values if x > total / 10)
    return total, squares, gen


def bump(n):
    global counter
    for _ in range(n):
        counter += 1
    return counter


def outer():
    base = 5

    def inner(items):
        acc = []
        for it in items:
            acc.append(it + base)
        return acc

    result = inner([1, 2])
    base = 100
    return result, inner([1])


def walrus(data):
    out = []
    for chunk in data:
        if (n := len(chunk)) > 1:
            out.append(n)
    return out, n, [y for x in data if (y := len(x))]


print(make())
print(accumulate([1, 2, 3, 4]))
print(bump(3), bump(2), counter)
print(outer())
print(walrus(["a", "bb", "ccc"]))
