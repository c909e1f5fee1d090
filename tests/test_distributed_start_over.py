"""A restarted job is never worse off than with torchrun alone: where its ranks find no job
checkpoint they can all use, they run the program from its start, each saying why in one line,
and the job trains to its end (real torchrun, --max-restarts=1, a real SIGKILL of rank 1).

The ways there is none: the survivors could not write one (the step's loop is not over a
DataLoader, the loss came inside ``optimizer.step()`` of a ``ZeroRedundancyOptimizer``, or
outside any loop that steps), or what they wrote cannot be used (its payload damaged, a
checkpoint of another output). Before, the restarted workers exited 2 when they could not
restore, or hung in the program's own ``init_process_group`` meeting the keys the attempt
before left in torchrun's store.

Every subprocess runs under a timeout; every wait of the test has a bound.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run
from test_distributed_lost_rank import (
    PROGRAM,
    STEP,
    torchrun,
    training_again,
    uninterrupted,
    wait_for_lines,
)
from test_distributed_pause import end_job, gone

pytestmark = [pytest.mark.slow, requires_torch]

#: DDP, deterministic per rank; rank 1 kills itself (SIGKILL) in torchrun's first attempt at
#: KILL_AT, a statement put where the case needs it.
HEAD = """
    import datetime
    import os
    import sys
    import time

    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    sys.stdout.write(f"rank {os.environ['RANK']} pid {os.getpid()} attempt {attempt}\\n")
    sys.stdout.flush()


    def say(line):
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()


    def kill_here(rank, where, step=None):
        if attempt == "0" and rank == 1 and os.environ.get("KILL_AT") == where and step in (None, 40):
            os.kill(os.getpid(), 9)
"""

#: The step's loop runs over a range: the lost rank's batch cannot be taken again.
RANGE_LOOP = HEAD + """

    def train():
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        rank = dist.get_rank()
        torch.manual_seed(rank)
        model = DistributedDataParallel(nn.Linear(4, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for step in range(60):
            kill_here(rank, "loop", step)
            x, y = torch.randn(8, 4), torch.randn(8, 1)
            loss = ((model(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            say(f"rank {rank} step {step} loss {loss.item():.10f}")
            time.sleep(0.02)
        say(f"rank {rank} final {sum(p.double().sum().item() for p in model.parameters()):.12f}")
        dist.destroy_process_group()


    train()
"""

#: A sharded optimizer: the peer is lost while ZeroRedundancyOptimizer.step() broadcasts.
ZERO = HEAD + """
    from torch.distributed.optim import ZeroRedundancyOptimizer
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


    def train():
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        rank = dist.get_rank()
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(960, 4), torch.randn(960, 1))
        loader = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, shuffle=True, seed=0))
        model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1)))
        optimizer = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=torch.optim.SGD, lr=0.01)
        step = 0
        for x, y in loader:
            loss = ((model(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            kill_here(rank, "zero", step)
            optimizer.step()
            say(f"rank {rank} step {step} loss {loss.item():.10f}")
            step += 1
            time.sleep(0.02)
        say(f"rank {rank} final {sum(p.double().sum().item() for p in model.parameters()):.12f}")
        dist.destroy_process_group()


    train()
"""

#: The peer is lost in a collective of the set-up, before the loop that steps.
SETUP = RANGE_LOOP.replace(
    """        model = DistributedDataParallel(nn.Linear(4, 1))""",
    """        agree_on_seed(rank)
        model = DistributedDataParallel(nn.Linear(4, 1))""",
).replace(
    """    def train():""",
    """    def agree_on_seed(rank):
        kill_here(rank, "setup")
        seed = torch.tensor([7])
        dist.all_reduce(seed)
        return seed


    def train():""",
)

NO_CHECKPOINT = "no job checkpoint is used ("
FROM_ITS_START = "): the program runs from its start, as torchrun alone would run it"


def run_to_the_end(run: Run, tmp_path: Path, ranks: int = 2, tamper=None, timeout: float = 240) -> tuple[int, list[str], int, str]:  # type: ignore[no-untyped-def]
    """torchrun --max-restarts=1 (monitor interval 5 s: the agent does not stop the survivor
    itself first); *tamper(run)* runs once the first attempt's survivors are gone, before the
    agent restarts the workers. Returns the status, the output lines, where the restarted
    attempt's output starts, and stderr."""
    output = tmp_path / "job.out"
    with open(output, "w") as stdout:
        process = subprocess.Popen(
            torchrun(ranks, "--max-restarts=1", "--monitor-interval=5"), cwd=run.out, env=run.env,
            stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
    err = ""
    try:
        pids = wait_for_lines(output, process, r"^rank (\d) pid (\d+) attempt 0$", ranks)
        deadline = time.monotonic() + 120
        while not all(gone(pid) for pid in pids.values()):
            assert time.monotonic() < deadline, "the first attempt did not end within 120 s"
            time.sleep(0.05)
        ended = time.time()
        cut = len(output.read_text().splitlines())
        if tamper is not None:
            tamper(run)
        back = training_again(output, process, cut, timeout)
        if back is not None:
            print(f"\nthe restarted attempt's first step {back - ended:.2f} s after the first attempt ended")
        _, err = process.communicate(timeout=timeout)
    finally:
        if process.returncode is None:
            _, err = end_job(process)
        (tmp_path / "job.err").write_text(err)
    return process.returncode, output.read_text().splitlines(), cut, err


def assert_started_over(run: Run, tmp_path: Path, status: int, lines: list[str], cut: int, err: str, why: str, ranks: int = 2) -> None:
    """Every rank said, in one line, that no job checkpoint is used and why; the restarted
    attempt trained from step 0 to the end, to the weights of an uninterrupted run."""
    assert status == 0, err[-4000:]
    for rank in range(ranks):
        said = [line for line in err.splitlines() if line.startswith(f"daifu: rank {rank}: {NO_CHECKPOINT}")]
        assert len(said) == 1 and FROM_ITS_START in said[0], err[-4000:]
        assert re.search(why, said[0]), said[0]
    assert "resumes from the job checkpoint" not in err and "cannot resume" not in err
    restarted = [STEP.match(line) for line in lines[cut:]]
    assert min(int(m.group(2)) for m in restarted if m) == 0
    finals = sorted(line for line in lines[cut:] if " final " in line)
    assert finals == sorted(line for line in uninterrupted(run.src, ranks) if " final " in line)


@pytest.mark.parametrize(
    ("program", "kill_at", "why"),
    [
        (RANGE_LOOP, "loop", r"attempt 0: its survivors wrote no job checkpoint \(the loop at line \d+ of the vaccinated train\(\) runs over a range_iterator, not a DataLoader"),
        (ZERO, "zero", r"attempt 0: its survivors wrote no job checkpoint \(train\(\) failed inside its optimizer step"),
        (SETUP, "setup", r"attempt 0: its survivors wrote no job checkpoint \(the failure .* is not inside a loop iteration that steps the optimizer"),
    ],
    ids=["loop-not-over-a-DataLoader", "inside-ZeroRedundancyOptimizer-step", "outside-the-stepping-loop"],
)
def test_where_the_survivors_cannot_write_a_job_checkpoint_the_restart_starts_over(tmp_path: Path, program: str, kill_at: str, why: str) -> None:
    run = Run(tmp_path, {"main.py": program}, env={"KILL_AT": kill_at})
    status, lines, cut, err = run_to_the_end(run, tmp_path)
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert saved and not saved[0]["saved"], saved
    assert_started_over(run, tmp_path, status, lines, cut, err, why)


def _replica_checkpoint(run: Run) -> Path:
    job_file = next((run.out / ".daifu" / "job").glob("*/attempt-0/job.json"))
    return Path(json.loads(job_file.read_text())["replica_checkpoint"])


def damage_the_payload(run: Run) -> None:
    checkpoint = _replica_checkpoint(run)
    payload = checkpoint.with_name(json.loads(checkpoint.read_text())["payload"])
    payload.write_bytes(payload.read_bytes()[: payload.stat().st_size // 2])


def move_to_another_output(run: Run) -> None:
    checkpoint = _replica_checkpoint(run)
    meta = json.loads(checkpoint.read_text())
    meta["output"] = str(run.out.parent / "another")
    checkpoint.write_text(json.dumps(meta))


#: The lost-rank test's job (a DataLoader, so the survivor writes a job checkpoint), rank 1
#: killing itself at step 40 of the first attempt.
SELF_KILLED = PROGRAM.replace(
    """                loss = ((model(x) - y) ** 2).mean()""",
    """                if os.environ.get("KILL_AT") == "loop" and attempt == "0" and rank == 1 and step == 40:
                    os.kill(os.getpid(), 9)
                loss = ((model(x) - y) ** 2).mean()""",
)


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (damage_the_payload, r"attempt 0: its state file .* is incomplete or changed"),
        (move_to_another_output, r"attempt 0: it belongs to the output .*/another, not to "),
    ],
    ids=["payload-damaged", "another-output"],
)
def test_a_job_checkpoint_no_rank_can_use_makes_the_restart_start_over(tmp_path: Path, tamper, why: str) -> None:  # type: ignore[no-untyped-def]
    """The survivor wrote the job's checkpoint; it is damaged (or says it is another output's)
    before the restart: the restarted ranks check it before the program runs, and start over.
    Before, both exited 2 ("cannot resume") and the job failed."""
    assert "os.kill" in SELF_KILLED
    run = Run(tmp_path, {"main.py": SELF_KILLED}, env={"KILL_AT": "loop"})
    status, lines, cut, err = run_to_the_end(run, tmp_path, tamper=tamper)
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert saved and saved[0]["saved"], saved
    assert_started_over(run, tmp_path, status, lines, cut, err, why)
