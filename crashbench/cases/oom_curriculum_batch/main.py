"""CNN image classifier trained with a batch-size curriculum on the GPU.

Synthetic 32x32 images: noise plus a bright square in one of four quadrants (the class). The
batch size doubles every 30 steps (small noisy batches first, large ones later) and then stays at
its largest size. Sizes are set from the measured memory of a training step and the memory the
GPU has free, so the case behaves the same on any GPU: the batch of the last stage needs about
1.4x the free memory, the one before about 0.7x.

Bug (device OOM): nothing splits a batch that does not fit; the first step of the last stage
(step 120 of 200) runs out of GPU memory (torch.OutOfMemoryError). Fix: gradient accumulation
over micro-batches of half that size.
"""

import copy
import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 200
STAGE = 30
STAGES = 5
CLASSES = 4
DEVICE = "cuda"
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(True, warn_only=True)


def make_batch(step, size):
    g = torch.Generator(device=DEVICE).manual_seed(step)
    y = torch.randint(0, CLASSES, (size,), device=DEVICE, generator=g)
    x = 0.5 * torch.randn(size, 1, 32, 32, device=DEVICE, generator=g)
    r = torch.arange(32, device=DEVICE)
    top, left = (y // 2 * 16 + 4)[:, None], (y % 2 * 16 + 4)[:, None]
    rows = (r >= top) & (r < top + 8)
    cols = (r >= left) & (r < left + 8)
    x += 1.5 * (rows[:, :, None] & cols[:, None, :]).unsqueeze(1)
    return x, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        )
        self.head = nn.Linear(32, CLASSES)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def accumulate(model, x, y, micro):
    """Gradients of the mean loss over the batch, in micro-batches of *micro* samples."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    for xb, yb in zip(x.split(micro), y.split(micro)):
        loss = F.cross_entropy(model(xb), yb, reduction="sum") / len(x)
        loss.backward()
        total += loss.detach()
    return total


def bytes_per_sample(model):
    """Peak memory of a training step, per sample (measured on a copy of the model)."""
    probe = copy.deepcopy(model)

    def peak(n):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        x, y = make_batch(-1, n)
        accumulate(probe, x, y, n)
        del x, y
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base

    peak(256)  # warm-up: cuBLAS/cuDNN handles and workspaces
    return (peak(2048) - peak(1024)) / 1024


def curriculum(model):
    """Batch sizes of the stages: doubling, the last one about 1.4x the free memory."""
    per_sample = bytes_per_sample(model)
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info()
    largest = int(1.4 * free / per_sample) // 64 * 64
    print(f"{per_sample / 2**10:.1f} KiB a sample, {free / 2**30:.1f} GiB free: largest batch {largest}", flush=True)
    return [largest >> (STAGES - 1 - k) for k in range(STAGES)]


def train():
    model = Net().to(DEVICE)
    sizes = curriculum(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    max_micro = checkpoints.extra.get("max_micro", sizes[-1])
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = make_batch(step, sizes[min(step // STAGE, STAGES - 1)])
        micro = min(len(x), max_micro)
        loss = accumulate(model, x, y, micro)
        optimizer.step()
        if (step + 1) % 20 == 0:
            print(f"step {step + 1} batch {len(x)} micro {micro} loss {loss.item():.4f}", flush=True)
        checkpoints.extra["max_micro"] = max_micro
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    train()
