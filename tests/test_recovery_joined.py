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
