"""The same training as ../program/train_ft.py with plain DDP: one torchrun job of 2 ranks.

The data, model, optimizer and batches are those of the torchft program (a
``DistributedSampler`` without shuffling, 64 steps an epoch), so an uninterrupted run ends
with the same weights. This is what daifu's part (a) recovers: a lost rank ends the job,
torchrun restarts it (``--max-restarts``) and every rank resumes from daifu's job checkpoint.

Environment: STEPS (a multiple of 64; 192), PACE, STEP_TO_DIE (rank 1 SIGKILLs itself at the
start of that step on torchrun's first attempt). Lines: ``<time> replica <rank> ...``.
"""

import datetime
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

STEPS = int(os.environ.get("STEPS", "192"))
PACE = float(os.environ.get("PACE", "0.02"))
DIE = int(os.environ.get("STEP_TO_DIE", "-1"))


def say(rank, line):
    sys.stdout.write(f"{time.time():.4f} replica {rank} {line}\n")
    sys.stdout.flush()


def train():
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    say(rank, f"pid {os.getpid()} attempt {os.environ.get('TORCHELASTIC_RESTART_COUNT')}")
    torch.manual_seed(0)
    inputs = torch.randn(4096, 8)
    targets = inputs @ torch.randn(8, 1) + 0.1 * torch.randn(4096, 1)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ddp = DistributedDataParallel(model)
    data = TensorDataset(inputs, targets)
    sampler = DistributedSampler(data, shuffle=False)
    loader = DataLoader(data, batch_size=32, sampler=sampler)
    step = 0
    for _epoch in range(STEPS // len(loader)):
        for x, y in loader:
            if step == DIE and rank == 1 and os.environ.get("TORCHELASTIC_RESTART_COUNT") == "0":
                say(rank, f"dies at step {step}")
                os.kill(os.getpid(), signal.SIGKILL)
            optimizer.zero_grad()
            loss = ((ddp(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            say(rank, f"step {step} loss {loss.item():.10f} participants 2 committed 1")
            step += 1
            time.sleep(PACE)
    checksum = sum(p.double().sum().item() for p in model.parameters())
    say(rank, f"final {checksum:.12f}")
    dist.destroy_process_group()


train()
