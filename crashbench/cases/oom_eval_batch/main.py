"""1-D convolutional keyword spotter on synthetic waveforms, on the GPU.

Each sample (2048 points) holds one of four "keywords" at a random place in noise: a rising
chirp, a falling chirp, a two-tone chord or a pulse train. Samples are a deterministic function
of their index (a hash, not a random stream), so the held-out set is the same however it is
batched. The held-out set is sized from the measured memory of an evaluation so that it is about
1.5x the free GPU memory in one batch, on any GPU.

Bug (device OOM): the evaluation at step 300 (of 400) runs the whole held-out set as one batch
and runs out of GPU memory (torch.OutOfMemoryError). Fix: evaluate in 8 batches.
"""

import copy
import math
import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
BATCH = 256
LENGTH = 2048
CLASSES = 4
EVAL_AT = (300, 400)
EVAL_BASE = 10**7  # held-out samples are indices EVAL_BASE, EVAL_BASE + 1, ...
DEVICE = "cuda"
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(True, warn_only=True)


def hashed(idx, salt):
    """A number in [0, 1) for each index, deterministic and independent of batching."""
    x = torch.sin(idx.double() * 12.9898 + salt * 78.233) * 43758.5453
    return (x - x.floor()).float()


def samples(idx):
    """Waveforms and labels of the samples with indices *idx* (a 1-D tensor on the GPU)."""
    label = (hashed(idx, 1) * CLASSES).long().clamp(max=CLASSES - 1)
    f0 = (0.02 + 0.05 * hashed(idx, 2))[:, None]
    start = (hashed(idx, 3) * (LENGTH - 512)).long()[:, None]
    t = torch.arange(LENGTH, device=idx.device)[None, :] - start
    inside = (t >= 0) & (t < 512)
    tf = t.float()
    chirp = 2 * math.pi * (f0 * tf + 0.00004 * tf * tf)
    down = 2 * math.pi * (2 * f0 * tf - 0.00004 * tf * tf)
    waves = torch.stack([
        torch.sin(chirp),
        torch.sin(down),
        0.7 * (torch.sin(2 * math.pi * f0 * tf) + torch.sin(3 * math.pi * f0 * tf)),
        (torch.sin(2 * math.pi * f0 * tf / 4) > 0.8).float(),
    ], dim=1)
    signal = waves.gather(1, label[:, None, None].expand(-1, 1, LENGTH)).squeeze(1) * inside
    noise = hashed(idx[:, None] * LENGTH + torch.arange(LENGTH, device=idx.device)[None, :], 4) - 0.5
    return (signal + 1.5 * noise).unsqueeze(1), label


class KeywordNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv1d(1, 64, 9, stride=2, padding=4), nn.ReLU(),
            nn.Conv1d(64, 64, 9, stride=2, padding=4), nn.ReLU(),
            nn.Conv1d(64, 128, 9, stride=2, padding=4), nn.ReLU(),
        )
        self.head = nn.Linear(128, CLASSES)

    def forward(self, x):
        return self.head(self.convs(x).mean(dim=2))


def count_correct(model, start, size):
    x, y = samples(EVAL_BASE + torch.arange(start, start + size, device=DEVICE))
    return int((model(x).argmax(1) == y).sum())


def evaluate(model, size, batch_size):
    """Accuracy on the held-out samples, *batch_size* samples at a time."""
    with torch.no_grad():
        correct = sum(count_correct(model, s, min(batch_size, size - s)) for s in range(0, size, batch_size))
    return correct / size


def held_out_size(model):
    """A held-out set that needs about 1.5x the free GPU memory in one batch."""
    probe = copy.deepcopy(model)

    def peak(n):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        with torch.no_grad():
            count_correct(probe, 0, n)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base

    peak(256)  # warm-up: cuDNN handles and workspaces
    per_sample = (peak(4096) - peak(2048)) / 2048
    del probe
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info()
    size = int(1.5 * free / per_sample) // 1024 * 1024
    print(f"evaluation: {per_sample / 2**10:.1f} KiB a sample, {free / 2**30:.1f} GiB free: {size} held-out samples", flush=True)
    return size


def train():
    model = KeywordNet().to(DEVICE)
    eval_size = held_out_size(model)
    eval_batch_size = eval_size  # the whole held-out set at once
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    accuracy = checkpoints.extra.get("accuracy", 0.0)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = samples(step * BATCH + torch.arange(BATCH, device=DEVICE))
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % 50 == 0:
            print(f"step {step + 1} loss {loss.item():.4f}", flush=True)
        if step + 1 in EVAL_AT:
            accuracy = evaluate(model, eval_size, eval_batch_size)
            print(f"step {step + 1} held-out accuracy {accuracy:.4f}", flush=True)
        checkpoints.extra["accuracy"] = accuracy
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=accuracy)


if __name__ == "__main__":
    train()
