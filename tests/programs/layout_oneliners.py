"""One-line compound statements, semicolons, comments in odd places, backslashes, unicode
identifiers and non-ASCII strings."""
import contextlib


class Ctx:
    def __init__(self, log): self.log = log
    def __enter__(self): self.log.append("in"); return self
    def __exit__(self, *a): self.log.append("out"); return False


def one_liners(items):
    log = []
    for x in items: log.append(x)
    if len(log) > 2: log.append("long")
    elif log: log.append("short")
    else: log.append("empty")
    with Ctx(log): log.append("body"); log.append("second")
    with Ctx(log) as c: log.append(c is not None)
    while log[-1] != "stop": log.append("stop")
    try: log.append(1 / len(items))
    except ZeroDivisionError: log.append("div0")
    else: log.append("no error")
    finally: log.append("fin")
    for y in items:
        if y == 2: continue
        if y == 3: break
        with Ctx(log): log.append(y); continue
    return log


def semicolons(n):
    a = 1; b = 2; c = a + b
    for i in range(n): a += i; b *= 2
    with contextlib.nullcontext(): a += 100; b -= 1; c = a * b
    return a, b, c


def comments_everywhere(flag):  # trailing comment on the def
    # leading comment
    log = []  # trailing comment
    with Ctx(log):  # comment after with
        # comment first in the with body
        log.append(1)  # trailing in body
        # comment last in the with body
    # comment between statements
    try:  # comment after try
        # comment in try
        if flag:  # comment after if
            raise KeyError("k")
        # comment after the raise's block
    # comment before except
    except KeyError:  # comment after except
        log.append("handled")
        # comment at end of handler
    # comment before else
    else:
        log.append("else")
    # comment before finally
    finally:
        # comment in finally
        log.append("finally")
        # last comment of finally
    total = sum(  # comment inside a call
        [1,  # comment in a list
         2,
         # a whole-line comment inside brackets
         3]
    )
    log.append(total)
    return log
    # comment after the last statement of the function


def ünïcode_nämes(größe):
    ergebnis = []
    for schlüssel in ("α", "β", "日本"):
        with contextlib.nullcontext():
            ergebnis.append(f"{schlüssel}×{größe} → ✓")
    π = 3.14159
    return ergebnis, π, "naïve café — ✨ emoji 🐍"


def backslashes(a, b):
    with contextlib.nullcontext():
        if a > 0 and \
                b > 0:
            total = a + \
                b
        else:
            total = 0
    return total


print(one_liners([1, 2, 3, 4]), one_liners([]))
print(semicolons(3))
print(comments_everywhere(True), comments_everywhere(False))
print(ünïcode_nämes(2))
print(backslashes(1, 2), backslashes(-1, 2))
for k in range(2): print("script one-liner", k)
with contextlib.nullcontext(): print("with one-liner"); print("second statement")
if True: print("if one-liner")
ñ = [c for c in "añb" if c.isalpha()]; print(ñ)
