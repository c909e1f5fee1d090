"""Lambdas and generator expressions created by script-level code keep their plain
__qualname__ (as functions and classes do)."""
import contextlib

square = lambda x: x * x
gen = (i for i in range(3))
print(square.__qualname__, gen.__qualname__, repr(square).split(" at ")[0])
for i in range(1):
    with contextlib.nullcontext():
        cube = lambda x: x ** 3
print(cube.__qualname__)
