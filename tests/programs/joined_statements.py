"""Statements a `;` joins stay on their line in the output (issue 10 item 10): in functions,
in cells (with bodies, try/finally parts), at script level, with the rewrites daifu makes
inside them (returns and break/continue leaving cells, locals() at script level) and the
forms that fall back to a line each (declarations moved to a cell's top, annotations stored
apart)."""
import contextlib

log = []; counter = 0


def bump(tag):
    global counter
    counter += 1; log.append((tag, counter))
    return counter


def plain(n):
    total = 0; seen = []
    for i in range(n):
        total += bump("p"); seen.append(i);
    return total, seen


def cells(n):
    out = []
    for i in range(n):
        with contextlib.nullcontext():
            out.append(i); x = bump("c")
            if i == 1: out.append("one"); continue
            if i == 3: out.append("three"); break
        try:
            y = x * 2; out.append(y)
        finally:
            out.append("f"); z = len(out)
    with contextlib.nullcontext():
        global counter
        w: int = 5; out.append(w)
        counter += 0; return out, z


def declared():
    with contextlib.nullcontext():
        global counter; counter += 100
        a = 1; b = 2  # comment after joined statements
    return a + b


print(plain(3)); print(cells(5)); print(declared())
for k in range(2):
    v = bump("s"); names = sorted(n for n in locals() if not n.startswith("_"))[:3]; print(k, v, names)
total: int = counter; print("total", total, log[-3:])
