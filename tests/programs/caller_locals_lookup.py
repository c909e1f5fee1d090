"""A helper that reads its caller's local variables through the frame (as pandas.eval,
DataFrame.query("x > @limit") or string-interpolation helpers do), called from a with body
of a function and from script-level code."""
import contextlib
import sys


def interpolate(template):
    caller = sys._getframe(1)
    names = dict(caller.f_globals)
    names.update(caller.f_locals)
    return template.format(**names)


def report(limit):
    unit = "ms"
    for _ in range(1):
        with contextlib.nullcontext():
            return interpolate("limit={limit}{unit}")


print(report(5))
for epoch in range(2):
    loss = 1.0 / (epoch + 1)
    print(interpolate("epoch {epoch}: loss {loss:.2f}"))
