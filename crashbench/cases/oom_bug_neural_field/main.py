"""Neural field (implicit image representation): a Fourier-feature MLP maps (x, y) in
[-1, 1]^2 to the intensity of an analytic test image (rings, a soft checkerboard and a
blob). Each step fits 1024 random coordinates; Adam with an exponential LR decay. Every 300
steps the PSNR is measured on the full 1800 x 1800 render (predicted in chunks).

Bug (OOM): the full-resolution PSNR subtracts the (N,) target from the (N, 1) predictions
(training squeezes them, this code does not), which broadcasts to an N x N matrix with
N = 3.24M (10^13 floats, 42 TB); the first full-resolution evaluation (after step 299 of 400)
fails at once with "DefaultCPUAllocator: can't allocate memory" (RuntimeError).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
BATCH = 1024
RESOLUTION = 1800
FULL_EVAL_EVERY = 300
torch.manual_seed(0)


def image(coords):
    x, y = coords[:, 0], coords[:, 1]
    r = torch.sqrt(x ** 2 + y ** 2)
    rings = 0.5 + 0.5 * torch.cos(18 * r)
    checker = torch.sigmoid(8 * torch.sin(5 * x) * torch.sin(5 * y))
    blob = torch.exp(-((x - 0.4) ** 2 + (y + 0.3) ** 2) / 0.05)
    return (0.45 * rings + 0.35 * checker + 0.4 * blob).clamp(0, 1)


class FourierField(nn.Module):
    def __init__(self, features=32, hidden=32, scale=4.0):
        super().__init__()
        self.register_buffer("B", torch.randn(2, features) * scale)
        self.mlp = nn.Sequential(
            nn.Linear(2 * features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, coords):
        proj = 2 * math.pi * coords @ self.B
        return self.mlp(torch.cat([proj.sin(), proj.cos()], dim=-1))


def full_psnr(model):
    axis = torch.linspace(-1, 1, RESOLUTION)
    coords = torch.cartesian_prod(axis, axis)
    target = image(coords)
    chunks = []
    with torch.no_grad():
        for chunk in coords.split(262_144):
            chunks.append(model(chunk))
    pred = torch.cat(chunks)
    mse = ((pred - target) ** 2).mean().item()
    return 10 * math.log10(1.0 / mse)


def main():
    model = FourierField()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.995)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        g = torch.Generator().manual_seed(80_000 + step)
        coords = torch.rand(BATCH, 2, generator=g) * 2 - 1
        loss = F.mse_loss(model(coords).squeeze(-1), image(coords))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % FULL_EVAL_EVERY == 0:
            print(f"step {step + 1} loss {loss.item():.5f} full-resolution PSNR {full_psnr(model):.2f} dB", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
