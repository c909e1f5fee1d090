"""Scripts written as public torchrun code is (``tests/programs/_torchrun/``), vaccinated and
run under a real torchrun with 2 gloo ranks; rank 1 is killed from outside (``kill -9`` of its
process, found by its ``RANK``) when rank 0 has logged a step, and ``--max-restarts=1``
restarts the job from daifu's job checkpoint. What the job prints (rank 0's log lines, the
checksums of both ranks' weights) equals the original script's uninterrupted run.

These scripts found the defects the tests of ``test_distributed_rebuilt_rank.py`` pin down:
``classifier_onecycle.py`` (``DistributedSampler(rank=rank)``, ``OneCycleLR`` sized by
``len(loader)``, ``torch.manual_seed(seed + rank)``) hung after the restart; ``reference_style``
(torchvision's reference scripts: ``record(main)``, ``args.rank``, a warm-up ``LambdaLR`` of a
lambda, ``enumerate(data_loader)`` in ``train_one_epoch``) got no job checkpoint, then lost its
scheduler. Where the kill lands is not fixed (after the step or before it; in the forward, the
backward or the metric's all-reduce): every case must give the same result.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run
from test_distributed_pause import children, end_job

pytestmark = [pytest.mark.slow, requires_torch]

SCRIPTS = Path(__file__).parent / "programs" / "_torchrun"
FINAL = re.compile(r"rank \d final checksum [-0-9.]+")


def torchrun(*options: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *options, "train.py"]


def printed(text: str) -> tuple[list[str], list[str]]:
    """Rank 0's log lines, and the final checksums (two ranks writing at once may share a line)."""
    finals = sorted(FINAL.findall(text))
    lines = [line for line in FINAL.sub("", text).splitlines() if re.match(r"^(epoch|Epoch)", line)]
    return lines, finals


def worker(torchrun_pid: int, rank: int) -> int | None:
    for pid in children(torchrun_pid):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ:
            return pid
    return None


@pytest.mark.parametrize(("script", "trigger"), [("classifier_onecycle.py", "^epoch 1 step 100 "), ("reference_style.py", r"^Epoch: \[2\] \[20/")])
def test_a_public_style_script_loses_a_rank_and_finishes_as_uninterrupted(tmp_path: Path, script: str, trigger: str) -> None:
    run = Run(tmp_path, {"train.py": (SCRIPTS / script).read_text()}, entry="train.py")
    output = tmp_path / "job.out"
    with open(output, "w") as stdout, open(tmp_path / "job.err", "w") as stderr:
        process = subprocess.Popen(torchrun("--max-restarts=1", "--monitor-interval=1"), cwd=run.out, env=run.env,
                                   stdout=stdout, stderr=stderr, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not re.search(trigger, output.read_text(), re.MULTILINE):
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "job.err").read_text()[-3000:]
            time.sleep(0.01)
        victim = worker(process.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        process.wait(timeout=180)
    finally:
        if process.poll() is None:
            end_job(process)
    err = (tmp_path / "job.err").read_text()
    assert "rank 1 resumes from the job checkpoint of attempt 0" in err, err[-4000:]
    # Its own random state is known where it had applied the agreed number of steps; a rank
    # killed between its gradient all-reduce and its optimizer step, where the survivor got
    # past its own step, had not: it goes on with the replica's (said), and the ranks seed
    # apart here, so its dropout masks differ from then on.
    own_random_state = "rank 1's torch random generator is its own after step" in err
    if not own_random_state:
        assert "not reconstructed for rank 1: its random generators" in err, err[-4000:]
    plain = tmp_path / "plain"
    shutil.copytree(run.src, plain)
    for _ in range(2):  # again if gloo aborts a rank at shutdown (torch's)
        expected = subprocess.run(torchrun(), cwd=plain, env=run.env, capture_output=True, text=True, timeout=180)
        if len(printed(expected.stdout)[1]) == 2:
            break
    lines, finals = printed(output.read_text())
    want_lines, want_finals = printed(expected.stdout)
    assert len(want_finals) == 2, expected.stderr[-3000:]
    assert len(finals) == 2, err[-3000:]
    if not own_random_state:
        pytest.skip("rank 1 was killed between its all-reduce and its step: its random state is the replica's")
    assert finals == want_finals, err[-3000:]
    # Every log line of the uninterrupted run, and no other (a step logged twice, once in each
    # attempt, is the same line). Where the job resumed after the step, at the metric's failed
    # all-reduce, that step's logged metric may differ (the README's limit: the rebuilt rank's
    # loss is the replica's, and gloo may have summed into the tensor before the call failed).
    if "at its failing statement (after the optimizer step)" in err:
        assert len(set(lines) - set(want_lines)) <= 1 and len(set(want_lines) - set(lines)) <= 1, sorted(set(lines) ^ set(want_lines))
    else:
        assert sorted(set(lines)) == sorted(set(want_lines))
