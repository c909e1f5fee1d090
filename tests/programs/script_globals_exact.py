"""The module namespace after script-level code with loops inside with bodies and
try/finally parts, comprehensions and exceptions: exactly the original names and values."""
import contextlib

names_before = sorted(k for k in globals() if not k.startswith("__"))
for outer in range(2):
    with contextlib.nullcontext() as ctx:
        for inner in range(2):
            pass
        try:
            for deep in range(1):
                squares = [v * v for v in range(3)]
        except ValueError as exc:
            pass
        finally:
            for fin in range(1):
                pass
try:
    raise KeyError("k")
except KeyError as err:
    caught = str(err)
while False:
    pass
print(names_before)
print(sorted(k for k in globals() if not k.startswith("__")))
print(sorted(k for k in globals() if k.startswith("__") and k != "__builtins__"))
print(__name__, __doc__[:20], __spec__ is None, __package__ in ("", None), type(__builtins__).__name__)
print(__file__.endswith("main.py"), __loader__.__class__.__name__, __cached__)
