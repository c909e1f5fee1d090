"""Denoising convolutional autoencoder on synthetic 16x16 images of overlapping rectangles:
a strided-conv encoder, a transposed-conv decoder, MSE against the clean image. Every 50 steps
it renders a preview (reconstructions upsampled 2x for viewing) and reports the PSNR.

Bug (API misuse): the preview calls ``F.interpolate(recon, scale=2, mode="bilinear")``; the
keyword is ``scale_factor``, so the first preview (after step 49 of 300) raises TypeError.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
BATCH = 32
PREVIEW_EVERY = 50
torch.manual_seed(0)


def images(seed, n):
    g = torch.Generator().manual_seed(seed)
    grid = torch.arange(16).float()
    canvas = torch.zeros(n, 1, 16, 16)
    for _ in range(3):
        lo = torch.randint(0, 12, (n, 2), generator=g).float()
        hi = lo + torch.randint(3, 8, (n, 2), generator=g).float()
        rows = (grid >= lo[:, :1]) & (grid < hi[:, :1])
        cols = (grid >= lo[:, 1:]) & (grid < hi[:, 1:])
        level = torch.rand(n, 1, 1, generator=g)
        canvas[:, 0] = torch.maximum(canvas[:, 0], (rows[:, :, None] & cols[:, None, :]).float() * level)
    noisy = canvas + 0.2 * torch.randn(canvas.shape, generator=g)
    return noisy, canvas


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def preview(model):
    noisy, clean = images(seed=-1, n=16)
    with torch.no_grad():
        recon = model(noisy)
    mse = F.mse_loss(recon, clean).item()
    big = F.interpolate(recon, scale=2, mode="bilinear", align_corners=False)
    sheet = torch.cat([F.interpolate(clean, size=big.shape[-2:]), big], dim=3)
    return sheet, 10 * math.log10(1.0 / max(mse, 1e-12))


def main():
    model = AutoEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        noisy, clean = images(seed=step, n=BATCH)
        loss = F.mse_loss(model(noisy), clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % PREVIEW_EVERY == 0:
            sheet, psnr = preview(model)
            print(f"step {step + 1} loss {loss.item():.5f} psnr {psnr:.2f} dB sheet {tuple(sheet.shape)}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
