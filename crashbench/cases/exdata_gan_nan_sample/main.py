"""GAN on a 2-D mixture of eight Gaussians on a ring (a classic toy density).

The real samples come from a simulated sensor feed, one batch a step. The discriminator loss is
checked before every update, so that a divergence stops training instead of writing NaN weights.

Bug (exceptional data): the feed has a dropped reading at step 420 (of 500): one sample is NaN,
the discriminator loss becomes NaN, and the program's own check raises FloatingPointError.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 500
BATCH = 128
LATENT = 8
torch.manual_seed(0)


def real_batch(step):
    g = torch.Generator().manual_seed(10_000 + step)
    centers = torch.tensor([[math.cos(a), math.sin(a)] for a in [k * math.pi / 4 for k in range(8)]]) * 2.0
    which = torch.randint(0, 8, (BATCH,), generator=g)
    samples = centers[which] + 0.05 * torch.randn(BATCH, 2, generator=g)
    if step == 420:
        samples[37] = float("nan")  # the sensor dropped a reading
    return samples


def noise(step):
    return torch.randn(BATCH, LATENT, generator=torch.Generator().manual_seed(20_000 + step))


def mlp(inputs, outputs, hidden=128):
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, outputs),
    )


def discriminator_loss(discriminator, real, fake):
    real_logits = discriminator(real)
    fake_logits = discriminator(fake)
    loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
        F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    if not torch.isfinite(loss):
        raise FloatingPointError(f"discriminator loss is {loss.item()}; stopping before the update")
    return loss


def generator_loss(discriminator, fake):
    logits = discriminator(fake)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def coverage(generator):
    """How many of the eight modes the generator hits (a sample within 0.3 of the center)."""
    with torch.no_grad():
        samples = generator(noise(-1))
    angles = torch.atan2(samples[:, 1], samples[:, 0]) % (2 * math.pi)
    modes = torch.round(angles / (math.pi / 4)).long() % 8
    near = (samples.norm(dim=1) - 2.0).abs() < 0.3
    return len(set(modes[near].tolist()))


def train():
    generator, discriminator = mlp(LATENT, 2), mlp(2, 1)
    g_opt = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    checkpoints = cb.Checkpointer(generator=generator, discriminator=discriminator, g_opt=g_opt, d_opt=d_opt)
    start = checkpoints.restore()
    d_loss = g_loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        real = real_batch(step)
        fake = generator(noise(step))
        d_loss = discriminator_loss(discriminator, real, fake.detach())
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = generator_loss(discriminator, fake)
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f} modes {coverage(generator)}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(
        checksum=cb.checksum(generator) + cb.checksum(discriminator),
        loss=d_loss.item(), g_loss=g_loss.item(), modes=coverage(generator),
    )


if __name__ == "__main__":
    train()
