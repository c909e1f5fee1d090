"""Temporal convolutional network (dilated causal Conv1d) forecasting multivariate series.

The series are sums of sines with drifting phase and noise; the model sees 64 past values of 3
channels and predicts the next 8. Every 25 steps a line goes to ``train_log.csv``, which a log
shipper also reads and ships; both take an exclusive ``flock`` on it, the trainer without
blocking (it must not stall training).

Fault (nondeterministic): when the log reaches its size limit (8 lines; step 224 of 300) the
shipper holds the lock for a moment while it ships the file, and the trainer's non-blocking lock
fails with BlockingIOError (EAGAIN, "Resource temporarily unavailable"). This happens once per
machine run: the marker file ``.fault_fired`` next to this program records it.
"""

import fcntl
import os
import threading
import time

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
BATCH = 32
CHANNELS = 3
PAST, FUTURE = 64, 8
HERE = os.path.dirname(os.path.abspath(__file__))
LOG = os.path.join(HERE, "train_log.csv")
MARKER = os.path.join(HERE, ".fault_fired")
torch.manual_seed(0)


def windows(step, size=BATCH):
    g = torch.Generator().manual_seed(31_337 + step)
    t = torch.arange(PAST + FUTURE, dtype=torch.float32)
    freq = 0.05 + 0.25 * torch.rand(size, CHANNELS, 1, generator=g)
    phase = 6.283 * torch.rand(size, CHANNELS, 1, generator=g)
    amp = 0.5 + torch.rand(size, CHANNELS, 1, generator=g)
    series = amp * torch.sin(freq * t + phase) + 0.3 * torch.sin(0.5 * freq * t) + 0.05 * torch.randn(size, CHANNELS, len(t), generator=g)
    series[:, 1] += 0.5 * series[:, 0].roll(3, dims=-1)  # a lagged cross-channel dependency
    return series[..., :PAST], series[..., PAST:]


class CausalBlock(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.pad = 2 * dilation
        self.conv1 = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, 3, dilation=dilation)

    def forward(self, x):
        h = F.relu(self.conv1(F.pad(x, (self.pad, 0))))
        h = self.conv2(F.pad(h, (self.pad, 0)))
        return F.relu(x + h)


class TCN(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.inp = nn.Conv1d(CHANNELS, hidden, 1)
        self.blocks = nn.Sequential(*[CausalBlock(hidden, d) for d in (1, 2, 4, 8)])
        self.head = nn.Linear(hidden, CHANNELS * FUTURE)

    def forward(self, x):
        h = self.blocks(self.inp(x))[..., -1]
        return self.head(h).view(len(x), CHANNELS, FUTURE)


class LogShipper:
    """Ships the log when it holds *limit* lines (holding the file lock meanwhile)."""

    def __init__(self, path, limit=8, seconds=0.25):
        self.path, self.limit, self.seconds = path, limit, seconds

    def poll(self):
        with open(self.path, encoding="utf-8") as handle:
            if sum(1 for _ in handle) < self.limit or os.path.exists(MARKER):
                return
        open(MARKER, "w").close()
        ready = threading.Event()
        threading.Thread(target=self._ship, args=(ready,), daemon=True).start()
        ready.wait()

    def _ship(self, ready):
        with open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            ready.set()
            time.sleep(self.seconds)  # uploading the file
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_log(step, loss, mae):
    """Append a line under a non-blocking exclusive lock (raises BlockingIOError if held)."""
    with open(LOG, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(f"{step},{loss:.6f},{mae:.6f}\n")
        fcntl.flock(handle, fcntl.LOCK_UN)


def train():
    open(LOG, "a").close()
    shipper = LogShipper(LOG)
    model = TCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.995)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = mae = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        past, future = windows(step)
        prediction = model(past)
        loss = F.mse_loss(prediction, future)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        mae = (prediction.detach() - future).abs().mean()
        if (step + 1) % 25 == 0:
            shipper.poll()
            append_log(step + 1, loss.item(), mae.item())
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} mse {loss.item():.4f} mae {mae.item():.4f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), mae=mae.item())


if __name__ == "__main__":
    train()
