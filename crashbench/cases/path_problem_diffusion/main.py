"""Denoising diffusion model (DDPM) on 2-D point clouds read from CSV files in ``data/``: an
MLP noise predictor with a sinusoidal timestep embedding, 50 diffusion steps, the usual
noise-prediction MSE. Pre-training on a spiral, then, from step 200, fine-tuning on two
moons (the second stage's file is loaded when the stage begins). The final line includes
statistics of points sampled with the reverse process.

Bug (path problem): the second stage's file name is wrong (``moons.csv`` instead of
``two_moons.csv``), so the stage switch (step 200 of 400) raises FileNotFoundError.
"""

import math
import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
STAGE2 = 200
BATCH = 256
T = 50
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
torch.manual_seed(0)

BETAS = torch.linspace(1e-3, 0.2, T)
ALPHAS = 1 - BETAS
ALPHA_BAR = ALPHAS.cumprod(0)


def stage_file(step):
    return os.path.join(DATA, "spiral.csv" if step < STAGE2 else "moons.csv")


def load_points(path):
    with open(path, encoding="utf-8") as handle:
        rows = handle.read().split()[1:]
    return torch.tensor([[float(v) for v in row.split(",")] for row in rows])


def timestep_embedding(t, dim=16):
    freqs = torch.exp(-math.log(1000.0) * torch.arange(dim // 2) / (dim // 2))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Denoiser(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 + 16, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x, t):
        return self.net(torch.cat([x, timestep_embedding(t)], dim=1))


def sample(model, n=512):
    g = torch.Generator().manual_seed(-7 % 2**31)
    x = torch.randn(n, 2, generator=g)
    with torch.no_grad():
        for t in reversed(range(T)):
            eps = model(x, torch.full((n,), t))
            mean = (x - BETAS[t] / (1 - ALPHA_BAR[t]).sqrt() * eps) / ALPHAS[t].sqrt()
            x = mean + (BETAS[t].sqrt() * torch.randn(n, 2, generator=g) if t > 0 else 0)
    return x


def main():
    model = Denoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    points = load_points(stage_file(start))
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        if step == STAGE2:
            points = load_points(stage_file(step))
            print(f"step {step}: stage 2, fine-tuning on {len(points)} points", flush=True)
        g = torch.Generator().manual_seed(20_000 + step)
        x0 = points[torch.randint(0, len(points), (BATCH,), generator=g)]
        t = torch.randint(0, T, (BATCH,), generator=g)
        noise = torch.randn(BATCH, 2, generator=g)
        a = ALPHA_BAR[t][:, None]
        loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} loss {loss.item():.4f}", flush=True)
        checkpoints.save_if_due(step + 1)
    samples = sample(model)
    cb.final(checksum=cb.checksum(model), loss=loss.item(),
             sample_mean=samples.mean().item(), sample_std=samples.std().item())


if __name__ == "__main__":
    main()
