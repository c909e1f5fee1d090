"""SimCLR-style contrastive learning on synthetic clustered vectors: two augmented views of
each sample (feature dropout + jitter), an MLP encoder with a projection head, and the
InfoNCE (NT-Xent) loss over the 2B views. Every 60 steps it logs percentiles of the embedding
norms (a collapse check) and, at the end, a nearest-centroid accuracy of the encoder.

Bug (API misuse): the collapse check calls ``.numpy()`` on the projections of the training
step, which still require grad; the first check (after step 59 of 400) raises RuntimeError
("Can't call numpy() on Tensor that requires grad").
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
BATCH = 64
DIM = 32
CLUSTERS = 6
LOG_EVERY = 60
TEMPERATURE = 0.2
torch.manual_seed(0)
CENTERS = torch.randn(CLUSTERS, DIM, generator=torch.Generator().manual_seed(7)) * 2.0


def samples(seed, n):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLUSTERS, (n,), generator=g)
    return CENTERS[labels] + torch.randn(n, DIM, generator=g), labels


def augment(x, g):
    keep = (torch.rand(x.shape, generator=g) > 0.2).float()
    return x * keep + 0.3 * torch.randn(x.shape, generator=g)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(DIM, 128), nn.ReLU(), nn.Linear(128, 64))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(64, 32))

    def forward(self, x):
        return self.head(self.body(x))


def nt_xent(z):
    z = F.normalize(z, dim=1)
    n = len(z) // 2
    sim = z @ z.T / TEMPERATURE
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def centroid_accuracy(model):
    x, y = samples(seed=-1, n=600)
    with torch.no_grad():
        h = F.normalize(model.body(x), dim=1)
    centroids = F.normalize(torch.stack([h[y == c].mean(0) for c in range(CLUSTERS)]), dim=1)
    return ((h @ centroids.T).argmax(1) == y).float().mean().item()


def main():
    model = Encoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        g = torch.Generator().manual_seed(90_000 + step)
        x, _ = samples(seed=step, n=BATCH)
        z = model(torch.cat([augment(x, g), augment(x, g)]))
        loss = nt_xent(z)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % LOG_EVERY == 0:
            p5, p50, p95 = np.percentile(z.norm(dim=1).numpy(), [5, 50, 95])
            print(f"step {step + 1} loss {loss.item():.4f} |z| p5 {p5:.2f} p50 {p50:.2f} p95 {p95:.2f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=centroid_accuracy(model))


if __name__ == "__main__":
    main()
