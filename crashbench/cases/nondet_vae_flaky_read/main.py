"""Variational autoencoder on 8x8 binary images of bars and boxes, read from shard files.

The shards are written to ``data/`` on first run and read back every step, as a training job
reads from a network file system.

Fault (nondeterministic): the file system fails one read with EIO (``Input/output error``) at
the read of step 40 (of 400). The fault happens once per machine run: the marker file
``.fault_fired`` next to this program records that it fired, and a retry or a restart reads the
shard fine.
"""

import errno
import io
import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
SHARDS = 16
SHARD_SIZE = 512
BATCH = 64
LATENT = 8
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
MARKER = os.path.join(HERE, ".fault_fired")
FLAKY_READ = 41  # the 41st shard read fails (once per machine run)
torch.manual_seed(0)


def make_images(count, seed):
    """Binary 8x8 images, each with one or two random bars or boxes."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(count, 8, 8)
    for shape in range(2):
        kind = torch.randint(0, 3, (count,), generator=g)
        a = torch.randint(0, 8, (count, 2), generator=g)
        b = torch.randint(0, 8, (count, 2), generator=g)
        lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        rows = torch.arange(8).view(1, 8, 1)
        cols = torch.arange(8).view(1, 1, 8)
        in_rows = (rows >= lo[:, 0].view(-1, 1, 1)) & (rows <= hi[:, 0].view(-1, 1, 1))
        in_cols = (cols >= lo[:, 1].view(-1, 1, 1)) & (cols <= hi[:, 1].view(-1, 1, 1))
        bar_r = rows == a[:, 0].view(-1, 1, 1)
        bar_c = cols == a[:, 1].view(-1, 1, 1)
        shape_mask = torch.where(kind.view(-1, 1, 1) == 0, bar_r.expand(-1, 8, 8),
                                 torch.where(kind.view(-1, 1, 1) == 1, bar_c.expand(-1, 8, 8), in_rows & in_cols))
        keep = (torch.rand(count, 1, 1, generator=g) < (1.0 if shape == 0 else 0.5))
        images = torch.maximum(images, (shape_mask & keep).float())
    return images.view(count, 64)


def write_shards():
    os.makedirs(DATA, exist_ok=True)
    for shard in range(SHARDS):
        path = os.path.join(DATA, f"shard_{shard:02d}.pt")
        if not os.path.exists(path):
            torch.save(make_images(SHARD_SIZE, seed=shard), path + ".tmp")
            os.replace(path + ".tmp", path)


_reads = 0


def read_shard(shard):
    """Read a shard file (simulated network file system: one read fails with EIO)."""
    global _reads
    _reads += 1
    path = os.path.join(DATA, f"shard_{shard:02d}.pt")
    if _reads == FLAKY_READ and not os.path.exists(MARKER):
        open(MARKER, "w").close()
        raise OSError(errno.EIO, os.strerror(errno.EIO), path)
    with open(path, "rb") as handle:
        return torch.load(io.BytesIO(handle.read()))


class VAE(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 2 * LATENT))
        self.decoder = nn.Sequential(nn.Linear(LATENT, hidden), nn.ReLU(), nn.Linear(hidden, 64))

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(z), mu, logvar


def elbo_loss(logits, x, mu, logvar):
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / len(x)
    return reconstruction + kl, reconstruction


def train():
    write_shards()
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = reconstruction = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        images = read_shard(step % SHARDS)
        offset = (step // SHARDS) % (SHARD_SIZE // BATCH) * BATCH
        x = images[offset:offset + BATCH]
        logits, mu, logvar = model(x)
        loss, reconstruction = elbo_loss(logits, x, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} loss {loss.item():.3f} reconstruction {reconstruction.item():.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), reconstruction=reconstruction.item())


if __name__ == "__main__":
    train()
