"""break/continue in a loop's `else:` clause (they act on the enclosing loop), from with
bodies and try/finally parts inside that else clause."""
import contextlib


def outer_break(rows):
    log = []
    for row in rows:
        for value in row:
            if value < 0:
                break
        else:
            with contextlib.nullcontext():
                log.append(("complete", row))
                if sum(row) > 10:
                    break
                continue
        log.append(("broken", row))
    return log


def while_else_continue(n):
    log = []
    i = 0
    while i < n:
        i += 1
        j = 0
        while j < i:
            j += 1
        else:
            try:
                if i % 2:
                    continue
                log.append(i)
            finally:
                log.append("fin")
        log.append("after inner")
    return log


print(outer_break([[1, 2], [3, -1], [5, 6], [7]]))
print(while_else_continue(4))
for r in range(3):
    for c in range(2):
        pass
    else:
        with contextlib.nullcontext():
            if r == 1:
                continue
            if r == 2:
                break
    print("row", r)
