"""1-D CNN time-series classifier: four kinds of noisy synthetic signals (sine, square,
sawtooth, damped bursts) with random frequency, phase and amplitude, 128 samples each. SGD
with momentum and a step LR schedule. For the last quarter of training (from step 300) a
one-vs-rest sigmoid loss is added to the cross-entropy, to calibrate per-class scores.

Bug (tensor mismatch): the one-vs-rest targets are ``F.one_hot(y, CLASSES)``, an int64
tensor, passed straight to ``binary_cross_entropy_with_logits`` with float32 logits; the first
step with the extra loss (step 300 of 400) raises RuntimeError ("result type Float can't be
cast to the desired output type Long"), before the optimizer steps.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
BATCH = 32
LENGTH = 128
CLASSES = 4
OVR_FROM = 300
torch.manual_seed(0)


def signals(seed, n):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    t = torch.linspace(0, 1, LENGTH)
    freq = 2 + 6 * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    amp = 0.5 + torch.rand(n, 1, generator=g)
    angle = 2 * math.pi * freq * t + phase
    waves = torch.stack([
        torch.sin(angle),
        torch.sign(torch.sin(angle)),
        2 * torch.frac(angle / (2 * math.pi)) - 1,
        torch.sin(angle) * torch.exp(-4 * torch.frac(freq * t)),
    ], dim=1)
    x = amp * waves[torch.arange(n), y] + 0.3 * torch.randn(n, LENGTH, generator=g)
    return x.unsqueeze(1), y


def make_model():
    return nn.Sequential(
        nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, CLASSES),
    )


def accuracy(model):
    x, y = signals(seed=-1, n=512)
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=150, gamma=0.3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = signals(seed=step, n=BATCH)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        if step >= OVR_FROM:
            loss = loss + 0.5 * F.binary_cross_entropy_with_logits(logits, F.one_hot(y, CLASSES))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} accuracy {accuracy(model):.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=accuracy(model))


if __name__ == "__main__":
    main()
