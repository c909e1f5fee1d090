"""After a fix, what the runtime shows and reads is the code that actually ran.

A second crash's traceback and the console's ``where`` show the lines of the fixed code;
code that started before a fix (a caller of the crashed function, or the code a refused fix
left running) keeps its own lines: its crashes are located, reported and handled in the
source it was compiled from, not in the module's new one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from recovery import Run, rewrite, run_plain, wait_event

ITEM2 = """
    def train():
        for i in range(3):
            x = i
            y = 10 // (x - 1)
            print("step", i, y)
    train()
"""


def test_a_second_crash_shows_the_new_source_lines(tmp_path: Path) -> None:
    """Issue 10 item 4: the report of a crash in fixed code, and the console's ``where``,
    showed the lines read before the fix (``linecache`` kept them)."""
    run = Run(tmp_path, {"main.py": ITEM2}).start()
    run.wait_waiting()
    rewrite(run, ITEM2.replace("10 // (x - 1)", "10 // (x - 1 + 0)  # still wrong"))
    run.wait_waiting(count=2)
    attach = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
        input="where\ndetach\n", capture_output=True, text=True, timeout=30,
    )
    assert "y = 10 // (x - 1 + 0)  # still wrong" in attach.stdout, attach.stdout
    rewrite(run, ITEM2.replace("10 // (x - 1)", "10 // (x - 1 + 0) if x != 1 else 0"))
    code, _, err = run.finish()
    assert code == 0, err
    second = err.split("daifu: crash intercepted")[2]
    traceback = second.split("Traceback (user files):")[1].split("\n\n")[0]
    assert "y = 10 // (x - 1 + 0)  # still wrong" in traceback, traceback


def test_resuming_the_running_code_after_a_refused_fix_names_its_own_line(tmp_path: Path) -> None:
    """The refused fix moved the lines; the snippet's retry resumes the code that was running,
    and the message maps its line with that code's line map, not the fix's."""
    run = Run(tmp_path, {"main.py": ITEM2}).start()
    run.wait_waiting()
    rewrite(run, """
        # a note
        # another note
        # and a third
        def train():
            for i in range(3):
                x = i
                for attempt in range(2):
                    y = 10 // (x - 1)
                print("step", i, y)
        train()
    """)
    wait_event(run, "cannot-resume")
    run.snippet("pass\n", name="retry.py")  # the same statement crashes again, in resumed code
    run.wait_waiting(count=2)
    assert [e["line"] for e in run.events() if e["event"] in ("crash", "resume")] == [4, 4, 4]
    run.snippet("x = 3\n")
    code, _, err = run.finish()
    assert code == 0, err
    assert "resumed train() at ../src/main.py:4 (" in err, err
    assert run.events()[-1]["line"] == 4
    second = err.split("daifu: crash intercepted")[2].split("Variables of")[0]
    assert "main.py:4 in train\n      y = 10 // (x - 1)\n" in second, second  # the text that ran
    assert "def train" not in second  # not line 4 of the file as it is now
    assert "the code that crashed is older than your file" in second


OUTER = """
    def train(epoch):
        for i in range(3):
            y = 10 // (i - 1)
            print("step", epoch, i, y)

    def outer():
        for epoch in range(2):
            train(epoch)
            z = 10 // (epoch - 1)
            print("epoch", epoch, z)

    outer()
"""


def test_a_crash_in_a_caller_still_running_the_code_it_had_before_the_fix(tmp_path: Path) -> None:
    """``outer()`` was running when the fix came: its frame goes on with its old code, whose
    lines belong to the old source (the fix moved ``outer`` one line down). Its later crash was
    not intercepted at all (its def was looked up at the old line in the new source); now it
    is, at the right line, with the text that ran, and a retry runs the fixed code."""
    run = Run(tmp_path, {"main.py": OUTER}).start()
    run.wait_waiting()
    rewrite(run, OUTER.replace("y = 10 // (i - 1)", "d = i - 1\n            y = 10 // (d or 1)").replace(
        "(epoch - 1)", "(epoch - 1 or 1)"))
    run.wait_waiting(count=2)
    crash = [e for e in run.events() if e["event"] == "crash"][1]
    assert (crash["function"], crash["line"]) == ("outer", 9), crash  # its line in the old source
    run.snippet("pass\n", name="retry.py")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout
    second = err.split("daifu: crash intercepted")[2].split("Variables of")[0]
    assert "main.py:9 in outer\n      z = 10 // (epoch - 1)\n" in second, second
    assert "retry` runs the fixed code" in err
    assert run.events()[-1]["line"] == 10  # resumed at `z = ...` of the fixed file


def test_a_handler_in_a_caller_still_running_the_code_it_had_before_the_fix(tmp_path: Path) -> None:
    """``outer()``'s running frame has the code it had; the fix moved it one line down. Its
    ``except ValueError`` was looked for in the new source at the old lines, not found, and
    the ``ValueError`` it handles was intercepted as a crash (the program waited)."""
    program = """
        def train(epoch):
            for i in range(3):
                y = 10 // (i - 1)
                if epoch == 1 and i == 2:
                    raise ValueError("bad epoch")
                print("step", epoch, i, y)

        def outer():
            for epoch in range(2):
                try:
                    train(epoch)
                except ValueError as e:
                    print("handled", e)
            print("done")

        outer()
    """
    run = Run(tmp_path, {"main.py": program}).start()
    run.wait_waiting()
    rewrite(run, program.replace("y = 10 // (i - 1)", "d = i - 1\n                y = 10 // (d or 1)"))
    code, out, err = run.finish(timeout=60)
    assert code == 0, err
    assert out == run_plain(run.src).stdout
    assert [e["event"] for e in run.events()].count("crash") == 1
