"""A lost rank rebuilt from the replica, in the style of public torchrun scripts (real torchrun,
2 gloo ranks, a real SIGKILL): the training loop in a ``Trainer`` method over
``enumerate(loader)``, a ``DistributedSampler`` given ``rank=``, an LR scheduler sized by
``len(loader)``, the rank kept on ``self``, ``main`` wrapped in torchelastic's ``@record``,
each rank seeded apart (``torch.manual_seed(seed + rank)``: its dropout masks).

Each of these broke the restart from the job checkpoint before (tried on such scripts):
``@record`` between the module and ``main`` made every survivor refuse a job checkpoint
("library code that would start over"); ``enumerate(loader)`` could not be moved back a batch
(the rebuilt rank refused to resume); the sampler, the loader, the loop's iterator and the
scheduler, all computed from the rank, were built again on the rebuilt rank (a fresh epoch
there against the rest of one on the other: the job hung in mismatched collectives; the
scheduler started over); ``self.rank`` stayed the replica's; its random generator was the
replica's (other dropout masks from the redone step on). Now the job's printed lines and
final weights equal an uninterrupted run's, bit for bit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run
from test_distributed_pause import end_job

pytestmark = [pytest.mark.slow, requires_torch]

PROGRAM = """
    import argparse
    import os
    import signal
    import sys

    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.distributed.elastic.multiprocessing.errors import record
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


    def say(line):  # one write: the ranks share torchrun's stdout
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()


    class Trainer:
        def __init__(self, args):
            self.args = args
            self.rank = int(os.environ["RANK"])
            self.is_main = self.rank == 0

        def fit(self):
            dist.init_process_group("gloo")
            rank = dist.get_rank()
            torch.manual_seed(self.args.seed)
            data = TensorDataset(torch.randn(512, 4), torch.randn(512, 1))
            torch.manual_seed(self.args.seed + rank)  # dropout masks apart per rank
            sampler = DistributedSampler(data, num_replicas=dist.get_world_size(), rank=rank, shuffle=True, seed=1)
            loader = DataLoader(data, batch_size=8, sampler=sampler)
            model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1)))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=2 * len(loader))
            step = 0
            for epoch in range(2):
                sampler.set_epoch(epoch)
                for i, (x, y) in enumerate(loader):
                    loss = ((model(x) - y) ** 2).mean()
                    if os.environ.get("LOSE") == str(self.rank) and os.environ["TORCHELASTIC_RESTART_COUNT"] == "0" and step == 40:
                        os.kill(os.getpid(), signal.SIGKILL)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    say(f"rank {self.rank} main {self.is_main} epoch {epoch} batch {i} step {step} loss {loss.item():.10f}")
                    step += 1
            checksum = sum(p.double().sum().item() for p in model.parameters())
            say(f"rank {self.rank} final {checksum:.12f} lr {scheduler.get_last_lr()[0]:.10f}")
            dist.destroy_process_group()


    @record
    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--seed", type=int, default=0)
        Trainer(parser.parse_args()).fit()


    if __name__ == "__main__":
        main()
"""

LINE = re.compile(r"^rank \d (main|final) ")


def torchrun(*options: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *options, "main.py"]


def job(folder: Path, env: dict[str, str], *options: str) -> tuple[list[str], str]:
    process = subprocess.Popen(torchrun(*options), cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=180)
    finally:
        if process.returncode is None:
            end_job(process)
    return [line for line in out.splitlines() if LINE.match(line)], err


def uninterrupted(run: Run) -> list[str]:
    """The program's lines under torchrun without daifu and without a loss (again if gloo
    aborts a rank at shutdown: torch's, see test_distributed_pause.finished)."""
    for _ in range(2):
        expected, plain_err = job(run.src, {**run.env, "LOSE": ""})
        if len([line for line in expected if " final " in line]) == 2:
            return expected
    raise AssertionError(plain_err[-3000:])


def test_a_rank_rebuilt_from_the_replica_in_a_trainer_over_enumerate_gets_its_own_rank_back(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}, env={"LOSE": "1"})
    done, err = job(run.out, run.env, "--max-restarts=1", "--monitor-interval=1")
    (tmp_path / "job.err").write_text(err)
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert len(saved) == 1 and saved[0]["saved"], (saved, err[-4000:])
    assert saved[0]["point"] == "Trainer.fit() at the start of the loop iteration"
    assert "rank 1 resumes from the job checkpoint of attempt 0 (40 optimizer steps" in err, err[-4000:]
    notes = next(line for line in err.splitlines() if "rank 1 resumes from rank 0's checkpoint" in line)
    assert "computed again for this rank: rank, Trainer.rank, Trainer.is_main" in notes, notes
    kept = next(line for line in err.splitlines() if "computed from the rank but not plain data, so rank 0's for rank 1" in line)
    assert all(f"{name} (a {kind}" in kept for name, kind in [("sampler", "DistributedSampler"), ("loader", "DataLoader"), ("scheduler", "OneCycleLR")]), kept
    assert "rank 1's torch random generator is its own after step 40 (kept by rank 1's process in rng-1.bin)" in err
    (tmp_path / "job.out").write_text("\n".join(done))
    expected = uninterrupted(run)
    (tmp_path / "expected.out").write_text("\n".join(expected))
    # Every line once (step 40 was in progress on both ranks, printed by neither before the
    # kill): the restarted attempt went on from the step in progress, nothing else redone.
    assert sorted(done) == sorted(expected)


#: nanoGPT's gradient accumulation over micro-batches of each batch: the backward (and the
#: gradient all-reduce of the last micro-batch) in an inner loop, the step after it.
MICRO_BATCHES = """
    import os
    import signal
    import sys

    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


    def say(line):
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()


    def train():
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(512, 4), torch.randn(512, 1))
        sampler = DistributedSampler(data, shuffle=True, seed=0)
        loader = DataLoader(data, batch_size=16, sampler=sampler)
        model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1)))
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
        step = 0
        for x, y in loader:
            for micro, (mx, my) in enumerate(zip(x.chunk(2), y.chunk(2))):
                if os.environ.get("LOSE") == str(rank) and os.environ["TORCHELASTIC_RESTART_COUNT"] == "0" and step == 10 and micro == 1:
                    os.kill(os.getpid(), signal.SIGKILL)
                model.require_backward_grad_sync = micro == 1
                loss = ((model(mx) - my) ** 2).mean() / 2
                loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            say(f"rank {rank} main step {step} loss {loss.item():.10f}")
            step += 1
        checksum = sum(p.double().sum().item() for p in model.parameters())
        say(f"rank {rank} final {checksum:.12f}")
        dist.destroy_process_group()


    train()
"""


def test_gradient_accumulation_over_micro_batches_redoes_the_whole_batch(tmp_path: Path) -> None:
    """The survivor fails in the last micro-batch's backward (its gradient all-reduce): the
    step is done again from the batch's first micro-batch, whose gradient the lost rank no
    longer has. Before, the point was the start of the inner iteration (the innermost loop
    around the failure), which would lose the first micro-batch's gradient; here the rebuilt
    rank refused it (its loop runs over enumerate(zip(...)), not a DataLoader) and the
    restarted job failed. Now the job's lines and weights are the uninterrupted run's."""
    run = Run(tmp_path, {"main.py": MICRO_BATCHES}, env={"LOSE": "1"})
    done, err = job(run.out, run.env, "--max-restarts=1", "--monitor-interval=1")
    (tmp_path / "job.err").write_text(err)
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert len(saved) == 1 and saved[0]["saved"], (saved, err[-4000:])
    assert saved[0]["decision"]["steps"] == 10
    expected = uninterrupted(run)
    assert sorted(done) == sorted(expected), err[-3000:]


#: Gradient accumulation across iterations of the step loop, as most public scripts write it:
#: DDP's ``no_sync()`` on all but every third batch, the step under an ``if``. Rank 1 is lost
#: (it SIGKILLs itself) after the second batch of a window: the survivor's gradient all-reduce
#: in the third batch's backward fails.
ACROSS_ITERATIONS = """
    import contextlib
    import os
    import signal
    import sys

    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


    def say(line):
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()


    def train():
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(384, 4), torch.randn(384, 1))
        sampler = DistributedSampler(data, shuffle=True, seed=0)
        loader = DataLoader(data, batch_size=8, sampler=sampler)
        model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1)))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        accumulate = 3
        step = 0
        for epoch in range(2):
            sampler.set_epoch(epoch)
            for i, (x, y) in enumerate(loader):
                last = (i + 1) % accumulate == 0
                with contextlib.nullcontext() if last else model.no_sync():
                    loss = ((model(x) - y) ** 2).mean() / accumulate
                    loss.backward()
                if os.environ.get("LOSE") == str(rank) and os.environ["TORCHELASTIC_RESTART_COUNT"] == "0" and step == 5 and i % accumulate == 1:
                    os.kill(os.getpid(), signal.SIGKILL)
                if last:
                    optimizer.step()
                    optimizer.zero_grad()
                    say(f"rank {rank} main step {step} loss {loss.item():.10f}")
                    step += 1
        checksum = sum(p.double().sum().item() for p in model.parameters())
        say(f"rank {rank} final {checksum:.12f}")
        dist.destroy_process_group()


    train()
"""


def test_gradient_accumulation_across_iterations_redoes_every_batch_since_the_last_step(tmp_path: Path) -> None:
    """The survivor fails in the third batch's backward: the gradients of the window's first
    two batches died with rank 1 (and the survivor's are half reduced), so the step is done
    again from the window's first batch on every rank (each loader moved back three batches,
    `enumerate`'s count too). Before, it was done again from the failing iteration only,
    without the accumulated gradients: the step applied one batch's gradient of three, and
    the job trained on silently to other weights."""
    run = Run(tmp_path, {"main.py": ACROSS_ITERATIONS}, env={"LOSE": "1"})
    done, err = job(run.out, run.env, "--max-restarts=1", "--monitor-interval=1")
    (tmp_path / "job.err").write_text(err)
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert len(saved) == 1 and saved[0]["saved"], (saved, err[-4000:])
    assert saved[0]["decision"]["steps"] == 5
    assert "rank 0 resumes from the job checkpoint of attempt 0 (5 optimizer steps" in err, err[-4000:]
    (tmp_path / "job.out").write_text("\n".join(done))
    expected = uninterrupted(run)
    (tmp_path / "expected.out").write_text("\n".join(expected))
    assert sorted(done) == sorted(expected), err[-3000:]
