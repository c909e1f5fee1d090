"""Names the generated code reads, rebound by the program: a local ``iter`` (as in the
standard library's inspect._signature_fromstr), a module-level ``iter``, and a patched
``builtins.iter``. The original ``for`` statement calls none of them; neither may the
vaccinated loop."""
import builtins


def reversed_pairs(pairs):
    iter = pairs  # a local named like the builtin
    out = []
    for i, p in enumerate(reversed(list(iter))):
        out.append((i, p))
    return out


def module_level(rows):
    total = 0
    for r in rows:
        total += r
    return total


iter = lambda *a: (_ for _ in ()).throw(AssertionError("module-level iter called"))  # noqa: E731
print(reversed_pairs([1, 2, 3]))
print(module_level([4, 5]))

real = builtins.iter
calls = []
builtins.iter = lambda *a: calls.append(a) or real(*a)
try:
    print(module_level(range(3)))
finally:
    builtins.iter = real
print("patched builtin called:", len(calls))
