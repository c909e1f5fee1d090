"""Comprehensions (list/set/dict/generator) and lambdas reading locals after rebinding,
walrus in conditions and in comprehensions, inside with bodies, methods and the script."""
import contextlib


def comprehensions(data):
    scale = 2
    with contextlib.nullcontext():
        doubled = [x * scale for x in data]
        unique = {x % 3 for x in data}
        index = {x: i for i, x in enumerate(data) if x != scale}
        lazy = (x + scale for x in data)
        scale = 100
        nested = [[y * scale for y in range(x)] for x in data if x < 3]
    return doubled, sorted(unique), index, list(lazy), nested


def walrus(values):
    out = []
    with contextlib.nullcontext():
        if (n := len(values)) > 2:
            out.append(f"long {n}")
        hits = [y for x in values if (y := x * 2) > 4]
        out.append((hits, y))
        total = 0
        while (chunk := values[total:total + 2]):
            total += len(chunk)
            out.append(chunk)
    out.append((n, total, [last := v for v in values][-1], last))
    return out


def walrus_outside_cells(items):
    if any((hit := item) > 10 for item in items):
        return f"first big {hit}"
    return "none big"


class Stats:
    factor = 3
    squares = [i * i for i in range(4)]
    pairs = {i: str(i) for i in range(3)}

    def __init__(self, values):
        self.values = values

    def summary(self):
        with contextlib.nullcontext():
            total = sum(v * self.factor for v in self.values)
            above = [v for v in self.values if v * self.factor > total / len(self.values)]
        return total, above, self.squares, self.pairs


def lambdas(base):
    with contextlib.nullcontext():
        add = lambda x: x + base
        compose = lambda f, g: lambda x: f(g(x))
        base += 1
    return add(1), compose(add, add)(0), (lambda: (yield))().__class__.__name__


def generator_kept_lazily():
    log = []
    source = [1, 2, 3]
    with contextlib.nullcontext():
        gen = (log.append(x) or x for x in source)
    source.append(4)
    first = next(gen)
    return first, list(gen), log


print(comprehensions([1, 2, 3, 4]))
print(walrus([1, 2, 3, 4, 5]))
print(walrus_outside_cells([1, 20, 30]), walrus_outside_cells([1]))
print(Stats([1, 2, 3]).summary())
print(lambdas(10))
print(generator_kept_lazily())

results = []
for row in range(3):
    with contextlib.nullcontext():
        results.append([row * col for col in range(3) if (prod := row * col) >= 0])
print(results, prod)
table = {k: [v for v in range(k)] for k in range(3)}
print(table, sorted({len(v) for v in table.values()}))
print(max(gen_item for gen_item in range(5)))
