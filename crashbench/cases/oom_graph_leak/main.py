"""Neural field: a Fourier-feature MLP that learns an RGB image as a function of (u, v), on the
GPU. Every 4 steps it also tracks the loss on a fixed set of held-out coordinates.

Bug (device OOM, a memory leak): the held-out loss is computed with autograd on and added to a
running tensor total (``monitor_total = monitor_total + monitor_loss(...)``), the classic
"total_loss += loss" mistake: each addition keeps the whole forward graph of that evaluation
alive, with its saved activations. Memory grows by one graph every 4 steps until the 81st
evaluation (step 320 of 400) no longer fits (torch.OutOfMemoryError). The held-out set is sized
from a probe at start so that 80 graphs fill the free GPU memory, on any GPU.
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
BATCH = 8192
MONITOR_EVERY = 4
GRAPHS_THAT_FIT = 80
DEVICE = "cuda"
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(True, warn_only=True)


def image(coords):
    """The RGB image being learned, at coordinates in [0, 1]^2."""
    u, v = coords[:, 0], coords[:, 1]
    red = 0.5 + 0.5 * torch.sin(12 * u + 3 * torch.sin(7 * v))
    green = torch.exp(-((u - 0.3) ** 2 + (v - 0.6) ** 2) / 0.02) + 0.5 * torch.exp(-((u - 0.7) ** 2 + (v - 0.3) ** 2) / 0.05)
    blue = 0.5 + 0.5 * torch.cos(9 * (u + v)) * (u > 0.5).float()
    return torch.stack([red, green, blue], dim=1)


def coordinates(seed, count):
    return torch.rand(count, 2, device=DEVICE, generator=torch.Generator(device=DEVICE).manual_seed(seed))


class NeuralField(nn.Module):
    def __init__(self, features=64, hidden=256, scale=8.0):
        super().__init__()
        self.register_buffer("frequencies", scale * torch.randn(2, features))
        self.mlp = nn.Sequential(
            nn.Linear(2 * features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 3),
        )

    def forward(self, coords):
        proj = 2 * math.pi * coords @ self.frequencies
        return self.mlp(torch.cat([proj.sin(), proj.cos()], dim=1))


def monitor_loss(model, coords, target):
    return F.mse_loss(model(coords), target)


def monitor_size(model):
    """Held-out coordinates such that GRAPHS_THAT_FIT kept graphs fill the free memory."""
    probe = copy.deepcopy(model)

    def kept(n):
        coords = coordinates(-1, n)
        target = image(coords)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        loss = monitor_loss(probe, coords, target)
        torch.cuda.synchronize()
        held = torch.cuda.memory_allocated() - base
        del loss
        return held

    def step_peak(n):
        coords = coordinates(-2, n)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        F.mse_loss(probe(coords), image(coords)).backward()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base

    step_peak(BATCH)  # warm-up: cuBLAS handle and workspace; gradients exist
    per_sample = (kept(8192) - kept(4096)) / 4096
    training = step_peak(BATCH)
    del probe
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info()
    graph = free / (GRAPHS_THAT_FIT + 0.5)
    if training > graph / 4:
        raise SystemExit(f"this GPU is too small for this case ({free / 2**30:.1f} GiB free)")
    size = int(graph / per_sample) // 256 * 256
    print(f"held-out set: {size} coordinates, {size * per_sample / 2**20:.0f} MiB a graph, {free / 2**30:.1f} GiB free", flush=True)
    return size


def train():
    model = NeuralField().to(DEVICE)
    monitor_coords = coordinates(-3, monitor_size(model))
    monitor_target = image(monitor_coords)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    monitor_total = torch.tensor(checkpoints.extra.get("monitor_total", 0.0), device=DEVICE)
    monitors = checkpoints.extra.get("monitors", 0)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        coords = coordinates(step, BATCH)
        loss = F.mse_loss(model(coords), image(coords))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % MONITOR_EVERY == 0:
            monitor_total = monitor_total + monitor_loss(model, monitor_coords, monitor_target)
            monitors += 1
        if (step + 1) % 50 == 0:
            print(f"step {step + 1} loss {loss.item():.5f} mean held-out loss {monitor_total.item() / monitors:.5f}", flush=True)
        checkpoints.extra.update(monitor_total=float(monitor_total), monitors=monitors)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), monitor=float(monitor_total) / monitors)


if __name__ == "__main__":
    train()
