"""Every clause of a compound statement written on one line with its block (issue 10 item 10):
if/elif/else, try/except/else and while/else stay as written in functions, in cells and at
script level, with the rewrites daifu makes inside them (a return or break leaving a cell); a
statement with one clause on lines of its own falls back to a line per block."""
import contextlib

log = []


def classify(i):
    if i < 0: return "negative"
    elif i == 0: log.append("zero"); return "zero"
    else: log.append(i)
    if i % 2: kind = "odd"
    else:
        kind = "even"
    return kind


def guarded(values):
    out = []
    for v in values:
        try: out.append(10 // v)
        except ZeroDivisionError as exc: out.append(type(exc).__name__); continue
        except TypeError: out.append("type"); break
        else: out.append("ok")
    return out


def in_cell(n):
    found = []
    for i in range(n):
        with contextlib.nullcontext():
            if i == 2: found.append("two"); continue
            elif i == 4: found.append("four"); break
            else: found.append(i)
            try: found.append(1 / (i - 3))
            except ZeroDivisionError: found.append("inf"); return found
    return found


def countdown(n):
    steps = 0
    while n > 0: n -= 1; steps += 1
    else: log.append(("done", steps))
    while True: break
    else: log.append("never")
    return steps


for k in range(3):
    if k == 0: print("script", k, classify(k))
    elif k == 1: print("script", k, classify(-k)); continue
    else: print("script", k, classify(k), guarded([1, 0, "x", 2]))
    try: print(in_cell(6))
    except RuntimeError: print("no")
    else: print(countdown(k))
print(log)
