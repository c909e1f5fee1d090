"""Resume in a new process inside a `with` or a `try ... finally`: the block is entered again
at the saved statement (its manager made anew from its expression, its `finally` still to
run), for the managers daifu knows to be safe to enter twice; the others are refused, naming
the statement, before the program runs anything."""

from __future__ import annotations

from pathlib import Path

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import crash_checkpoint_and_terminate, daifu_resume

NESTED_BLOCKS = """
import contextlib
import random

random.seed(0)
log = []


def train(n):
    total = 0.0
    for i in range(n):
        try:
            with contextlib.nullcontext():
                x = random.random()
                total += x / (i - 3)
                log.append(round(total, 6))
        finally:
            print("step", i, log[-1], flush=True)
    return total


print("final", round(train(6), 6))
"""


def test_a_with_inside_a_try_finally_is_entered_again_and_the_finally_runs(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED_BLOCKS})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    assert before.count("step") == 3  # steps 0-2; the `finally` of step 3 has not run
    fix = ("x / (i - 3)", "x / (i - 3 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout  # the `finally` of step 3 ran, once
    assert resumed.stdout.startswith("step 3 ")


APPENDS = """
import random

random.seed(0)


def train(path, n):
    with open(path, MODE) as out:
        for i in range(n):
            x = random.random()
            out.write(f"{i} {x / (i - 2):.6f}\\n")
    print("done", flush=True)


train("out.txt", 5)
"""


def test_a_file_opened_for_appending_is_entered_again(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": APPENDS.replace("MODE", '"a"')})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    fix = ("(i - 2)", "(i - 2 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed_folder = fixed_copy(run, tmp_path, [fix])
    assert run_plain(fixed_folder).returncode == 0
    # the lines the stopped process wrote (flushed at the checkpoint), then the rest, once each
    assert (run.out / "out.txt").read_text() == (fixed_folder / "out.txt").read_text()


def test_managers_not_known_to_be_safe_are_refused_naming_the_statement(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": APPENDS.replace("MODE", '"w"')})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    run.patch("(i - 2)", "(i - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert (
        "daifu: cannot resume: train(): it stopped inside `with open(path, MODE) as out`".replace(
            "MODE", "'w'"
        )
        in resumed.stderr
    ), resumed.stderr
    assert "opens a file in mode 'w'" in resumed.stderr
    assert resumed.stdout == "" and "done" not in resumed.stdout


OWN_MANAGER = """
class Timer:
    def __enter__(self):
        print("enter", flush=True)
        return self

    def __exit__(self, *exc):
        print("exit", flush=True)


def train(n):
    total = 0
    with Timer():
        for i in range(n):
            total += 1 / (i - 2)
    print(total)


train(4)
"""


def test_a_programs_own_manager_is_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": OWN_MANAGER})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    run.patch("(i - 2)", "(i - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert "it stopped inside `with Timer()`" in resumed.stderr
    assert "is not one daifu knows to be safe to enter again" in resumed.stderr, resumed.stderr
    assert resumed.stdout == ""


TRY_EXCEPT = """
import random
random.seed(0)

def train(n):
    total = 0.0
    for i in range(n):
        try:
            x = random.random()
            total += x / (i - 3)
            if i == 4:
                raise ValueError("bad batch")
        except ValueError as e:
            y = random.random()
            total -= y / (i - 4)
            print("handled", e, flush=True)
        print("step", i, round(total, 6), flush=True)
    return total

print("final", round(train(6), 6))
"""


def test_inside_a_try_body_its_handlers_still_apply(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": TRY_EXCEPT.replace("y / (i - 4)", "y / (i - 4 or 1)")})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    fix = ("x / (i - 3)", "x / (i - 3 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout
    assert "handled bad batch" in resumed.stdout  # the `except` of the re-entered `try` caught it


def test_inside_an_except_block_the_handled_exception_comes_back(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": TRY_EXCEPT.replace("x / (i - 3)", "x / (i - 3 or 1)")})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    fix = ("y / (i - 4)", "y / (i - 4 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout
    assert resumed.stdout.startswith("handled bad batch")  # `e` is the exception it handled


def test_inside_an_except_part_of_a_try_finally_is_refused_naming_the_statement(
    tmp_path: Path,
) -> None:
    """The exception being handled by an `except` of a `try ... finally` lives in the stopped
    process's cell (not among the saved variables): refused, naming the statement."""
    program = TRY_EXCEPT.replace("x / (i - 3)", "x / (i - 3 or 1)").replace(
        '        print("step", i,', '        finally:\n            pass\n        print("step", i,'
    )
    run = Run(tmp_path, {"main.py": program})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert (
        "daifu: cannot resume: train(): it stopped inside the `except` part of `try`"
        in resumed.stderr
    ), resumed.stderr
    assert resumed.stdout == ""


PREEMPTED_IN_A_HANDLER = """
import sys
import time


def train(n):
    total = 0
    try:
        raise ValueError("warm-up failed")
    except ValueError as e:
        print("ready", file=sys.stderr, flush=True)
        time.sleep(1)  # SIGTERM lands here; the next statement is the safe point
        print("handled", e, flush=True)
    for i in range(n):
        total += i
    print("total", total)


train(4)
"""


def test_preempted_inside_an_except_block_the_handled_exception_comes_back(tmp_path: Path) -> None:
    import signal

    run = Run(tmp_path, {"main.py": PREEMPTED_IN_A_HANDLER}).start()
    assert run.process is not None and run.process.stderr is not None
    assert run.process.stderr.readline().strip() == "ready"
    run.process.send_signal(signal.SIGTERM)
    code, before, err = run.finish()
    assert code == -signal.SIGTERM and "daifu: SIGTERM: process checkpoint" in err, err
    checkpoint = next((run.out / ".daifu" / "jit").glob("*sigterm*.json"))
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert (
        before + resumed.stdout == run_plain(run.src).stdout == "handled warm-up failed\ntotal 6\n"
    )


CALLED_FROM_A_HANDLER = """
def inner(n):
    for i in range(n):
        print("inner", i, 1 / (i - 2), flush=True)


def train():
    total = 0
    try:
        raise ValueError("no cache")
    except ValueError as e:
        for attempt in range(1):
            inner(4)
    print("done", total)


train()
"""


def test_an_outer_frame_inside_an_except_block_is_refused(tmp_path: Path) -> None:
    """Only the innermost frame's handled exception is known (the crash's context): a caller
    stopped in an `except` block is refused, naming it, instead of failing after resuming."""
    run = Run(tmp_path, {"main.py": CALLED_FROM_A_HANDLER})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    run.patch("(i - 2)", "(i - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert "daifu: cannot resume: train(): it stopped inside an `except` block" in resumed.stderr, (
        resumed.stderr
    )
    assert resumed.stdout == ""
