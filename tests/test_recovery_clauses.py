"""A crash in the ``else`` or ``finally`` block of a ``try ... finally`` is intercepted and
resumes there. Those blocks run as cells called by the shim (``run_else``/``run_finally``),
whose frame stood between the cell and its function: the crash could not be placed ("no def
of train()") and propagated."""

from __future__ import annotations

from pathlib import Path

from recovery import Run, fixed_copy, run_plain

PROGRAM = """
    log = []


    def train():
        for i in range(4):
            try:
                log.append(("body", i))
            except KeyError:
                pass
            else:
                log.append(("else", i)); e = 6 // (i - 1)
            finally:
                log.append(("finally", i)); f = 6 // (i - 2)
            print("step", i, e, f)
        print(log)


    train()
"""

FIXES = [("6 // (i - 1)", "6 // (i - 1 or 3)"), ("6 // (i - 2)", "6 // (i - 2 or 3)")]


def test_crashes_in_else_and_finally_blocks_are_intercepted_and_resume_there(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}).start()
    for count, (old, new) in enumerate(FIXES, start=1):
        run.wait_waiting(count=count)
        run.patch(old, new)
    code, out, err = run.finish()
    assert code == 0, err
    expected = run_plain(fixed_copy(run, tmp_path, FIXES))
    assert out == expected.stdout, err
    assert [e["line"] for e in run.events() if e["event"] == "crash"] == [11, 13]
