"""How a run's process checkpoints survive the ways a run ends: SIGKILL in the middle of a
write, Ctrl+C (SIGINT) while running, giving up (the maximum wait, the console's `raise` and
`exit`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import daifu_resume

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


def test_sigkill_during_a_checkpoint_write_leaves_the_last_good_one_and_refuses_the_partial(tmp_path: Path) -> None:
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
