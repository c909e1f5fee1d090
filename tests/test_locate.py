"""Placing a crash and reporting it in the user's files, across fixes (issue 10, items 1, 6, 7).

A fix gives changed functions new code for their next call, but frames already running keep
their old code at the old code's line numbers; every later crash in such a frame must still be
placed (and reported) against the version of the module that frame runs. A crash daifu cannot
place is said on stderr and in the log, never passed silently. The report maps every frame of
a vaccinated file back to the user's line, and shows the state of script-level code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from recovery import Run, run_plain

from daifu_cli.patch import patch_once


@pytest.fixture(autouse=True)
def _no_program_left_waiting(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A test that fails half-way must not leave its program waiting for a fix (6 hours)."""
    started: list[Run] = []
    start = Run.start

    def tracked(self: Run, **kwargs):  # type: ignore[no-untyped-def]
        started.append(self)
        return start(self, **kwargs)

    monkeypatch.setattr(Run, "start", tracked)
    yield
    for run in started:
        run.kill()


def line_of(run: Run, text: str, file: str = "main.py") -> int:
    """The line of *text* in the user's source as it is now."""
    lines = (run.src / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def crashes(run: Run) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in run.events() if e["event"] == "crash"]


# -- item 1: frames running code older than the module's newest version ------------------------

MOVED = """
    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def main():
        for i in range(3):
            step(i)
        print("loop done")
        open("missing_dir/out.txt", "w")
        print("saved")

    main()
"""


def test_a_crash_in_a_frame_whose_code_a_fix_moved_is_intercepted(tmp_path: Path) -> None:
    """The fix of ``step`` adds a line, so ``main`` moves down one line in the new code; the
    ``main`` frame that is running keeps the old code, whose lines the runtime must still read
    (it used to find no def at the old line and let the second crash kill the program)."""
    run = Run(tmp_path, {"main.py": MOVED}).start()
    run.wait_waiting()
    run.patch('raise ValueError("bug in step")', "pass  # fixed\n            # a line more: main moves down")
    state = run.wait_waiting(count=2)
    assert state["exception"] == "FileNotFoundError" and state["function"] == "main"
    assert state["line"] == line_of(run, 'open("missing_dir/out.txt"') == 11
    run.patch('open("missing_dir/out.txt", "w")', 'open("out.txt", "w")')
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "loop done\nsaved\n"
    assert "cannot intercept" not in err
    # the report of the second crash shows the failing line of the file as it is now
    assert '../src/main.py:11 in main\n      open("missing_dir/out.txt", "w")' in err


CHANGED_BELOW = """
    PATH = "missing_dir/out.txt"

    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def main():
        for i in range(3):
            step(i)
        print("loop done")
        open(PATH, "w").close()
        print("saved")

    main()
"""


def test_an_old_frame_is_read_in_its_own_code_when_the_fix_changed_its_function(tmp_path: Path) -> None:
    """The fix also inserts a statement into ``main`` below the running call, without moving
    ``main``'s def: the old frame's ``open`` line is the new code's ``print("checking")``. Read
    against the new code, the crash was reported there and the retry ran the print."""
    run = Run(tmp_path, {"main.py": CHANGED_BELOW}).start()
    run.wait_waiting()
    run.edit_source('raise ValueError("bug in step")', "pass")
    run.edit_source('    print("loop done")\n', '    print("loop done")\n    print("checking")\n')
    assert patch_once(run.src, run.out) == ["main.py"]
    state = run.wait_waiting(count=2)
    assert state["exception"] == "FileNotFoundError"
    assert state["line"] == line_of(run, "open(PATH")
    run.snippet('PATH = "out.txt"\n')
    code, out, err = run.finish()
    assert code == 0, err
    # the running main is the old one: no "checking"; the retry runs the open, then goes on
    assert out == "loop done\nsaved\n"


OLD_HANDLER = """
    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def risky(i):
        for _ in range(1):
            if i >= 2:
                raise KeyError(i)
        return i

    def main():
        done = []
        for i in range(4):
            step(i)
            try:
                done.append(risky(i))
            except KeyError as exc:
                done.append(f"handled {exc}")
        print(done)

    main()
"""


def test_a_handler_in_a_frame_running_old_code_is_seen(tmp_path: Path) -> None:
    """Whether a caller handles an exception is read from the caller's source: for the
    ``main`` frame that runs the code from before the fix, from that code. Read in the new
    code (where no def starts at the old line) its ``except KeyError`` went unseen, and the
    KeyError the program handles was intercepted as a crash."""
    run = Run(tmp_path, {"main.py": OLD_HANDLER}, env={"DAIFU_MAX_WAIT": "5"}).start()
    run.wait_waiting()
    run.patch('raise ValueError("bug in step")', "pass  # fixed\n            # a line more: main moves down")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "[0, 1, 'handled 2', 'handled 3']\n"
    assert [e["exception"] for e in crashes(run)] == ["ValueError"], err


RESUMED = """
    def helper(x):
        for _ in range(1):
            if x == 2:
                raise KeyError("helper bug")
        return x


    class Trainer:
        def fit(self):
            total = 0
            for epoch in range(4):
                if epoch == 1:
                    total += missing_value
                total += helper(epoch)
            print("total", total)
            return total / self.denominator


    print("result", Trainer().fit())
"""


def test_a_resumed_method_is_placed_after_its_module_is_patched_again(tmp_path: Path) -> None:
    """``Trainer.fit`` resumes as a continuation built from the second version of the module;
    a fix of ``helper`` then moves everything below it (a third version). The continuation's
    crash is reported at the line of the file as it is now, and a third fix resumes it."""
    run = Run(tmp_path, {"main.py": RESUMED}).start()
    run.wait_waiting()
    run.patch("total += missing_value", "total += 10")
    run.wait_waiting(count=2)
    run.patch('            raise KeyError("helper bug")\n', "            pass\n            # helper fixed\n")
    state = run.wait_waiting(count=3)
    assert state["exception"] == "AttributeError" and state["function"] == "Trainer.fit"
    line = line_of(run, "self.denominator")
    assert state["line"] == line == 17  # 16 before the fix of helper
    run.patch("total / self.denominator", "total / 2")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "total 16\nresult 8.0\n"
    assert f"main.py:{line} in fit\n      return total / self.denominator" in err


EXIT_RAISES = """
    class Flusher:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            raise ValueError("flush failed")


    def train():
        for step in range(2):
            with Flusher():
                print("step", step)


    train()
"""


def test_a_crash_daifu_cannot_place_is_said_once_and_propagates(tmp_path: Path) -> None:
    """A manager's ``__exit__`` raising after the ``with`` body cannot be retried (the body
    ran); the crash goes on as without daifu, but says why, on stderr and in the log."""
    run = Run(tmp_path, {"main.py": EXIT_RAISES}).start()
    code, out, err = run.finish(timeout=60)
    plain = run_plain(run.src)
    assert code == plain.returncode == 1
    assert out == plain.stdout
    assert err.strip().splitlines()[-1] == plain.stderr.strip().splitlines()[-1] == "ValueError: flush failed"
    assert err.count("daifu: cannot intercept ValueError in train()") == 1, err
    (event,) = [e for e in run.events() if e["event"] == "unplaced"]
    assert event["line"] == 11 and "__exit__" in event["reason"] and event["exception"] == "ValueError"

