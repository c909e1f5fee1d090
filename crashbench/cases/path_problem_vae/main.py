"""Variational autoencoder on the "bars and stripes" dataset (8x8 binary images made of full
rows or full columns, with pixel noise): MLP encoder to an 8-d Gaussian latent, MLP decoder
with Bernoulli logits, ELBO with KL warm-up; the reparameterisation noise comes from a
per-step generator. Every 70 steps a grid of decoded samples (a fixed set of latent codes)
is written as a PGM image to ``samples/``.

Bug (path problem): the ``samples/`` directory is never created, so writing the first sample
sheet (after step 69 of 450) raises FileNotFoundError.
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 450
BATCH = 64
LATENT = 8
SAMPLE_EVERY = 70
SAMPLE_DIR = "samples"
torch.manual_seed(0)
FIXED_CODES = torch.randn(16, LATENT, generator=torch.Generator().manual_seed(5))


def bars_and_stripes(seed, n):
    g = torch.Generator().manual_seed(seed)
    lines = (torch.rand(n, 8, generator=g) < 0.5).float()
    vertical = torch.rand(n, 1, 1, generator=g) < 0.5
    images = torch.where(vertical, lines[:, None, :].expand(n, 8, 8), lines[:, :, None].expand(n, 8, 8))
    flips = (torch.rand(n, 8, 8, generator=g) < 0.03).float()
    return (images + flips).remainder(2).view(n, 64)


class VAE(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 2 * LATENT))
        self.decoder = nn.Sequential(nn.Linear(LATENT, hidden), nn.ReLU(), nn.Linear(hidden, 64))

    def forward(self, x, eps):
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        z = mu + eps * (0.5 * log_var).exp()
        return self.decoder(z), mu, log_var


def save_samples(model, step):
    with torch.no_grad():
        pixels = torch.sigmoid(model.decoder(FIXED_CODES)).view(4, 4, 8, 8)
    sheet = pixels.permute(0, 2, 1, 3).reshape(32, 32)
    data = (sheet * 255).round().to(torch.uint8).numpy().tobytes()
    path = os.path.join(SAMPLE_DIR, f"step_{step:05d}.pgm")
    with open(path, "wb") as handle:
        handle.write(b"P5 32 32 255\n" + data)
    return path


def main():
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x = bars_and_stripes(seed=step, n=BATCH)
        eps = torch.randn(BATCH, LATENT, generator=torch.Generator().manual_seed(30_000 + step))
        logits, mu, log_var = model(x, eps)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / BATCH
        kl = -0.5 * (1 + log_var - mu ** 2 - log_var.exp()).sum() / BATCH
        loss = recon + min(1.0, step / 200) * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % SAMPLE_EVERY == 0:
            path = save_samples(model, step + 1)
            print(f"step {step + 1} loss {loss.item():.3f} recon {recon.item():.3f} kl {kl.item():.3f} -> {path}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
