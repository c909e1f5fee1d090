"""Statements a ``;`` joins stay on their line, and a crash in one resumes at that one.

The vaccinated copy keeps ``a = f(); b = g(a)`` as written (issue 10 item 10), so the runtime
must tell the statements of one line apart: resuming at the first one would run ``a = f()``
again. Each joined line below has a side effect before the failing statement; the resumed run
prints exactly what the fixed program prints run from scratch.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from recovery import Run, fixed_copy, run_plain

PROGRAM = """
    import contextlib

    calls = []


    def tick(tag):
        calls.append(tag)
        return len(calls)


    def step(i):
        a = tick("a"); b = 10 // (i - 1); c = tick("c")  # joined
        return a + b + c


    def check(i):
        q = 0
        if tick("t") and i == 1: q = 5 // (i - 1); tick("q")
        while q < 7 and 3 // (i - 2): q += 4; tick("w")
        return q


    def evaluate():
        with contextlib.nullcontext():
            w = tick("w"); v = 1 // (w - w); tick("v")
        return w + v


    def train():
        total = 0
        for i in range(3):
            total += step(i); tick("after"); total += check(i)
        print("train", total, calls)
        print("evaluate", evaluate(), calls)


    train()
    for k in range(2):
        x = tick("s1"); y = undefined_name; z = tick("s2")
    print("script", x, y, z, calls)
"""

FIXES = [
    ("10 // (i - 1)", "10 // (i - 1 or 1)"),
    ("5 // (i - 1)", "5 // (i - 1 or 1)"),
    ("3 // (i - 2)", "3 // (i - 2 or 9)"),
    ("1 // (w - w)", "1 // (w - w or 1)"),
    ("y = undefined_name", "y = 'fixed'"),
]


def test_a_crash_in_a_joined_statement_resumes_at_that_statement(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}, policy="all")
    vaccinated = (run.out / "main.py").read_text()
    assert 'a = tick("a"); b = 10 // (i - 1); c = tick("c")  # joined' in vaccinated
    assert 'total += step(i); tick("after"); total += check(i)' in vaccinated
    assert 'if tick("t") and i == 1: q = 5 // (i - 1); tick("q")' in vaccinated
    assert 'while q < 7 and 3 // (i - 2): q += 4; tick("w")' in vaccinated
    run.start()
    for count, (old, new) in enumerate(FIXES, start=1):
        run.wait_waiting(count=count)
        run.patch(old, new)
    code, out, err = run.finish()
    assert code == 0, err
    expected = run_plain(fixed_copy(run, tmp_path, FIXES))
    assert expected.returncode == 0, expected.stderr
    assert out == expected.stdout, err
    crashes = [e["line"] for e in run.events() if e["event"] == "crash"]
    lines = textwrap.dedent(PROGRAM).lstrip().splitlines()
    assert crashes == [next(n for n, text in enumerate(lines, 1) if old in text) for old, _ in FIXES]
    assert "approximate" not in err


#: Every clause of a compound statement written on one line with its block: kept so as
#: written, and a crash in a clause's block resumes at the failing statement of that clause.
CLAUSES = """
    calls = []


    def tick(tag):
        calls.append(tag)
        return len(calls)


    def pick(i):
        if i == 0: r = tick("if")
        elif i == 1: tick("elif"); r = 7 // (i - 1)
        else: tick("else"); r = 9 // (i - 2); tick("after")
        return r


    def guarded(i):
        try: tick("try"); v = 4 // (i - 1); tick("tried")
        except KeyError: v = -1
        else: tick("else"); v += 6 // (i - 2)
        return v


    def countdown(n):
        while n > 0: n -= 1; tick("loop")
        else: tick("done"); n = 1 // n
        return n


    def train():
        for i in range(3):
            print("step", i, pick(i), guarded(i), calls)
        print("countdown", countdown(2), calls)


    train()
    for k in range(1):
        if len(calls) > 100: print("many")
        else: tick("s"); q = missing_name; tick("t")
    print("script", q, calls)
"""

CLAUSE_FIXES = [
    ("7 // (i - 1)", "7 // (i - 1 or 1)"),
    ("4 // (i - 1)", "4 // (i - 1 or 1)"),
    ("9 // (i - 2)", "9 // (i - 2 or 1)"),
    ("6 // (i - 2)", "6 // (i - 2 or 1)"),
    ("1 // n", "1 // (n or 1)"),
    ("q = missing_name", "q = 'fixed'"),
]


def test_a_crash_in_a_clause_on_its_headers_line_resumes_at_that_statement(tmp_path: Path) -> None:
    """``if``/``elif``/``else``, ``try``/``except``/``else`` and ``while``/``else`` with each
    block on its header's line stay as written (the user's bytes, only re-indented), in
    functions and script-level code; each crash resumes at its statement, so the output equals
    the fixed program's (the side effects before it on its line happen once)."""
    run = Run(tmp_path, {"main.py": CLAUSES}, policy="all")
    vaccinated = (run.out / "main.py").read_text()
    kept = [line.strip() for line in textwrap.dedent(CLAUSES).splitlines() if ": " in line and line.strip().split()[0] in ("if", "elif", "else:", "try:", "except", "while")]
    assert len(kept) == 10
    for line in kept:
        assert line in vaccinated, line
    run.start()
    for count, (old, new) in enumerate(CLAUSE_FIXES, start=1):
        run.wait_waiting(count=count)
        run.patch(old, new)
    code, out, err = run.finish()
    assert code == 0, err
    expected = run_plain(fixed_copy(run, tmp_path, CLAUSE_FIXES))
    assert expected.returncode == 0, expected.stderr
    assert out == expected.stdout, err
    crashes = [e["line"] for e in run.events() if e["event"] == "crash"]
    lines = textwrap.dedent(CLAUSES).lstrip().splitlines()
    assert crashes == [next(n for n, text in enumerate(lines, 1) if old in text) for old, _ in CLAUSE_FIXES]
    assert "approximate" not in err
