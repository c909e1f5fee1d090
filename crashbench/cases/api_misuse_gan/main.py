"""GAN on a 2-D ring of eight Gaussians: an MLP generator and an MLP discriminator, each with
its own Adam optimizer. From step 250 on, the discriminator also sees a replay of old fakes
from a history buffer (experience replay against mode oscillation).

Bug (API misuse): the replayed fakes are joined with ``torch.cat(fake, old)`` (two tensors as
separate arguments) instead of ``torch.cat((fake, old))``: the first replay step (250 of 500)
raises a TypeError before either optimizer has stepped.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 500
BATCH = 64
Z_DIM = 8
REPLAY_FROM = 250
HISTORY = 512
torch.manual_seed(0)


def real_batch(step):
    g = torch.Generator().manual_seed(10_000 + step)
    mode = torch.randint(0, 8, (BATCH,), generator=g).float()
    angle = mode * (2 * math.pi / 8)
    centers = torch.stack([angle.cos(), angle.sin()], dim=1) * 2.0
    return centers + 0.05 * torch.randn(BATCH, 2, generator=g)


def noise(step):
    g = torch.Generator().manual_seed(20_000 + step)
    return torch.randn(BATCH, Z_DIM, generator=g)


def replay_rows(step):
    g = torch.Generator().manual_seed(30_000 + step)
    return torch.randint(0, HISTORY, (BATCH // 2,), generator=g)


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers[:-1])


def main():
    generator = mlp([Z_DIM, 64, 64, 2])
    discriminator = mlp([2, 64, 64, 1])
    g_opt = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    checkpoints = cb.Checkpointer(generator=generator, discriminator=discriminator, g_opt=g_opt, d_opt=d_opt)
    start = checkpoints.restore()
    history = checkpoints.extra.setdefault("history", torch.zeros(HISTORY, 2))
    d_loss = g_loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        real = real_batch(step)
        fake = generator(noise(step))

        d_fake_in = fake.detach()
        if step >= REPLAY_FROM:
            old = history[replay_rows(step)]
            d_fake_in = torch.cat(d_fake_in, old)
        d_real = discriminator(real)
        d_fake = discriminator(d_fake_in)
        d_loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()

        score = discriminator(fake)
        g_loss = F.binary_cross_entropy_with_logits(score, torch.ones_like(score))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

        slot = (step * 16) % HISTORY
        history[slot:slot + 16] = fake.detach()[:16]
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f}", flush=True)
        checkpoints.save_if_due(step + 1)
    samples = generator(noise(-1)).detach()
    radius = samples.norm(dim=1).mean().item()
    cb.final(
        checksum=cb.checksum(generator) + cb.checksum(discriminator),
        d_loss=d_loss.item(), g_loss=g_loss.item(), radius=radius,
    )


if __name__ == "__main__":
    main()
