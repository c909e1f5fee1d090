"""How a run's process checkpoints survive the ways a run ends: SIGKILL in the middle of a
write, Ctrl+C (SIGINT) while running, giving up (the maximum wait, the console's `raise` and
`exit`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import NESTED, daifu_resume

BIG_STATE = """
import torch

torch.manual_seed(0)
big = torch.randn(64 * 1024 * 1024)  # 256 MiB: a process checkpoint takes a while to write


def train(steps):
    total = 0.0
    for step in range(steps):
        total += big[step].item() / (step - 2)
        print("step", step, flush=True)
    return total


print("final", round(train(5), 4))
"""


def test_sigkill_during_a_checkpoint_write_leaves_the_last_good_one_and_refuses_the_partial(
    tmp_path: Path,
) -> None:
    pytest.importorskip("torch")
    run = Run(tmp_path, {"main.py": BIG_STATE}).start()
    jit = run.out / ".daifu" / "jit"
    try:
        run.wait_waiting(timeout=120)
        first = Path(next(e for e in run.events() if e["event"] == "process-checkpoint")["path"])
        assert run.process is not None
        run.process.send_signal(signal.SIGUSR1)  # while waiting: a second checkpoint, at once
        deadline = time.monotonic() + 60
        while not list(jit.glob(".*.partial")):
            assert time.monotonic() < deadline, "the second checkpoint never started"
            time.sleep(0.001)
        run.process.send_signal(signal.SIGKILL)  # in the middle of writing 256 MiB
        code, _, _ = run.finish()
    finally:
        run.kill()
    assert code == -signal.SIGKILL
    (partial,) = jit.glob(".*.partial")
    assert sorted(jit.glob("*.json")) == [first]  # the kill did land during the write
    never_written = partial.with_name(partial.name[1:].replace(".state.partial", ".json"))
    for given in (partial, never_written):
        refused = daifu_resume(given)
        assert refused.returncode == 2, refused.stderr
        assert f"{given} is a checkpoint whose write never finished" in refused.stderr
        assert refused.stdout == ""
    fix = ("/ (step - 2)", "/ (step - 2 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(first)  # the last good one is intact
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert fixed.stdout.endswith(resumed.stdout) and resumed.stdout.startswith("step 2\n")


INTERRUPTED = """
import random
import sys
import time

random.seed(2)


def train(steps):
    weights = [0.0, 1.0]
    for step in range(steps):
        noise = random.random()
        weights = [w * 0.9 + noise for w in weights]
        print("step", step, round(sum(weights), 6), flush=True)
        if step == 3:
            print("ready", file=sys.stderr, flush=True)
        time.sleep(SLEEP if step >= 3 else 0.01)
    return weights


print("final", train(12))
"""

CATCHES = INTERRUPTED.replace(
    'print("final", train(12))',
    'try:\n    print("final", train(12))\nexcept KeyboardInterrupt:\n    print("interrupted: saving", flush=True)',
)


def interrupt(folder: Path, *, times: int = 1) -> tuple[int, str, str, float]:
    """Run *folder*'s main.py, press Ctrl+C (SIGINT) *times* once it says ready; its exit
    status, output, and the seconds from the last SIGINT to its end."""
    env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    process = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None and process.stderr.readline().strip() == "ready"
        for _ in range(times):
            time.sleep(0.1)
            process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err, time.monotonic() - sent


def test_ctrl_c_checkpoints_then_ends_as_sigint_does_and_the_checkpoint_resumes(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path, {"main.py": INTERRUPTED.replace("SLEEP", "0.3")})
    code, out, err, _ = interrupt(run.out)
    plain_code, plain_out, plain_err, _ = interrupt(run.src)  # the original program
    assert code == plain_code == -signal.SIGINT  # an uncaught KeyboardInterrupt ends by SIGINT
    assert err.splitlines()[-1] == plain_err.splitlines()[-1] == "KeyboardInterrupt"
    assert (
        "Traceback (most recent call last):" in err and "_daifu" not in err.split("Traceback")[-1]
    )
    assert out == plain_out  # the step it was in finished, as it had in the original
    assert "daifu: SIGINT: process checkpoint" in err, err
    checkpoint = next((run.out / ".daifu" / "jit").glob("*sigint*.json"))
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = run_plain(run.src)
    assert out + resumed.stdout == uninterrupted.stdout


def test_a_program_that_catches_keyboardinterrupt_runs_its_handler(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CATCHES.replace("SLEEP", "0.3")})
    code, out, err, _ = interrupt(run.out)
    plain_code, plain_out, _, _ = interrupt(run.src)  # the original program
    assert code == plain_code == 0
    assert out == plain_out and out.endswith("interrupted: saving\n"), (out, plain_out)
    assert "daifu: SIGINT: process checkpoint" in err, err


def test_a_second_ctrl_c_before_the_safe_point_interrupts_at_once(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": INTERRUPTED.replace("SLEEP", "60")})  # the step never ends
    code, _, err, took = interrupt(run.out, times=2)
    assert code == -signal.SIGINT and err.splitlines()[-1] == "KeyboardInterrupt", err
    assert took < 10  # not the 60 s sleep, nor the 30 s grace
    assert "daifu: SIGINT again: interrupted before the safe point; no checkpoint" in err
    assert not list((run.out / ".daifu" / "jit").glob("*sigint*.json"))


def attach(run: Run, commands: str) -> str:
    console = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
        input=commands,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return console.stdout


def resumes_with_the_console_change(run: Run, tmp_path: Path, given_up: str) -> None:
    """The checkpoint written when the run gave up holds `scale = 2.0` set from the console;
    the one written at the crash does not."""
    first, second = sorted(
        (e["path"] for e in run.events() if e["event"] == "process-checkpoint"), key=len
    )
    assert f"`daifu resume {second}` starts it again at the failing statement" in given_up, given_up
    fix = ("scale / (epoch - 1)", "scale / (epoch - 1 or 1)")
    run.patch(*fix)
    at_crash, changed = daifu_resume(Path(first)), daifu_resume(Path(second))
    assert at_crash.returncode == 0 and changed.returncode == 0, changed.stderr
    assert run_plain(fixed_copy(run, tmp_path, [fix])).stdout.endswith(at_crash.stdout)
    assert changed.stdout != at_crash.stdout and changed.stdout.startswith("epoch 1 ")


def test_giving_up_from_the_console_checkpoints_the_state_as_the_console_left_it(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path, {"main.py": NESTED}).start()
    try:
        run.wait_waiting()
        assert "giving up" in attach(run, "exec scale = 2.0\nraise\n")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 1 and err.rstrip().endswith("ZeroDivisionError: float division by zero"), err
    resumes_with_the_console_change(run, tmp_path, err)


def test_the_maximum_wait_checkpoints_the_state_as_the_console_left_it(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED}, env={"DAIFU_MAX_WAIT": "3"}).start()
    try:
        run.wait_waiting()
        assert "changed: scale" in attach(run, "exec scale = 2.0\ndetach\n")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 1 and "daifu: maximum wait reached" in err, err
    resumes_with_the_console_change(run, tmp_path, err)


def test_giving_up_with_nothing_changed_writes_no_second_checkpoint(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED}, env={"DAIFU_MAX_WAIT": "1"}).start()
    try:
        run.wait_waiting()
        code, _, err = run.finish()
    finally:
        run.kill()
    saved = [e["path"] for e in run.events() if e["event"] == "process-checkpoint"]
    assert code == 1 and len(saved) == 1 and f"`daifu resume {saved[0]}`" in err, err
