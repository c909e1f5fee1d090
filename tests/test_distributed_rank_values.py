"""A rank rebuilt from the replica's checkpoint gets its own start-up values: what the program
computed from its rank, local rank, environment and command line (real
``torch.distributed.launch``, which passes ``--local-rank=N`` to each worker, --max-restarts=1,
kill -9 of rank 1 at step 40; rank 1 is rebuilt from rank 0's checkpoint).

Before, the rebuilt rank 1 went on with rank 0's ``args`` (``args.local_rank`` 0), and with
rank 0's values of everything computed from it (``device_name``), or computed in a tuple
(``arg_rank, env_rank = ...``), while ``rank = dist.get_rank()`` was computed again.

Every subprocess runs under a timeout; every wait of the test has a bound.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import test_distributed_lost_rank
from conftest import requires_torch
from recovery import Run
from test_distributed_lost_rank import STEP, lose_a_rank, uninterrupted

pytestmark = [pytest.mark.slow, requires_torch]

PROGRAM = """
    import argparse
    import datetime
    import os
    import sys
    import time

    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    parser = argparse.ArgumentParser()
    parser.add_argument("--local-rank", "--local_rank", type=int, default=int(os.environ.get("LOCAL_RANK", 0)))
    args = parser.parse_args()
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    sys.stdout.write(f"rank {os.environ['RANK']} pid {os.getpid()} attempt {attempt}\\n")
    sys.stdout.flush()


    def say(line):
        sys.stdout.write(line + "\\n")
        sys.stdout.flush()


    def train():
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
        rank = dist.get_rank()
        local_rank = int(os.environ["LOCAL_RANK"])
        device_name = f"cuda:{args.local_rank}"
        device = torch.device(f"cuda:{local_rank}")
        is_main = rank == 0
        log_name = f"log-{rank}.txt"
        arg_rank, env_rank = args.local_rank, os.environ.get("LOCAL_RANK")
        os.environ["MY_RANK"] = str(rank)
        rank_tensor = torch.tensor([rank])
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(1024, 4), torch.randn(1024, 1))
        loader = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, shuffle=True, seed=0))
        model = DistributedDataParallel(nn.Linear(4, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        step = 0
        for x, y in loader:
            loss = ((model(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            say(
                f"rank {rank} step {step} loss {loss.item():.10f} args.local_rank {args.local_rank} local_rank {local_rank} "
                f"device_name {device_name} device {device} is_main {is_main} log {log_name} arg_rank {arg_rank} env_rank {env_rank}"
            )
            step += 1
            time.sleep(0.02)
        say(f"rank {rank} final {sum(p.double().sum().item() for p in model.parameters()):.12f}")
        dist.destroy_process_group()


    train()
"""


def launch(ranks: int, *options: str) -> list[str]:
    """torch.distributed.launch: torchrun that also passes ``--local-rank=N`` to each worker."""
    return [sys.executable, "-m", "torch.distributed.launch", "--standalone", f"--nproc-per-node={ranks}", *options, "main.py"]


def test_a_rebuilt_rank_computes_its_start_up_values_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_distributed_lost_rank, "torchrun", launch)
    run = Run(tmp_path, {"main.py": PROGRAM})
    done, err, cut, *_, back = lose_a_rank(run, tmp_path, 2, "5", 1)
    assert back is not None, f"the restarted job failed: {err[-4000:]}"
    assert re.search("rank 1 resumes from the job checkpoint of attempt 0 .*; rebuilt from rank 0's replica\\)", err), err[-3000:]
    restarted = [line for line in done[cut:] if line.startswith("rank 1 step ")]
    assert restarted and all(
        line.endswith("args.local_rank 1 local_rank 1 device_name cuda:1 device cuda:1 is_main False log log-1.txt arg_rank 1 env_rank 1")
        for line in restarted
    ), restarted[:2]
    # Every printed line, losses included, is the uninterrupted run's.
    expected = uninterrupted(run.src, 2)
    assert sorted({line for line in done if STEP.match(line) or " final " in line}) == sorted(expected)
    computed = re.search(r"computed again for this rank: (.*)", err)
    assert computed is not None
    assert set(computed.group(1).split(", ")) >= {"args", "rank", "local_rank", "device_name", "device", "is_main", "log_name", "arg_rank", "env_rank"}
    # What cannot be computed again is named: an object built from the rank, and a statement
    # that stores it elsewhere.
    kept = re.search(r"computed from the rank but not plain data, so rank 0's for rank 1: (.*)", err)
    assert kept is not None, err[-3000:]
    assert re.search(r"rank_tensor \(a Tensor, line \d+\)", kept.group(1))
    assert re.search(r"line \d+ `os.environ\['MY_RANK'\] = str\(rank\)`", kept.group(1))
