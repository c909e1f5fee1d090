"""A module with CRLF line endings: loops, with bodies and multi-line strings."""
import contextlib


def summarize(rows):
    out = []
    for row in rows:
        with contextlib.nullcontext():
            text = """row:
  %s""" % (row,)
            out.append(text)
        # comment after the with
    return out


for line in summarize([1, 2]):
    print(repr(line))
try:
    raise ValueError("crlf")
except ValueError as exc:
    print("handled", exc)
finally:
    print("finally")
from helpers import helper
print([repr(x) for x in helper(2)])
