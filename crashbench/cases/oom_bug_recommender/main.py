"""Matrix-factorization recommender (user/item embeddings + biases) trained on synthetic
explicit ratings generated from hidden taste vectors. Items are known by 10-digit SKUs and
mapped to a compact index for the embedding table. After the learning-rate drop at step 300,
recall@10 on held-out liked items is evaluated every 50 steps, excluding the items each user
already rated in training.

Bug (OOM): the "already rated" mask is allocated with ``int(ITEM_SKUS.max()) + 1`` columns
(the SKU number space, ~10^10) instead of the number of items, i.e. 3000 x 10^10 booleans
(30 TB); the first ranking evaluation (after step 299 of 420) fails at once with
"DefaultCPUAllocator: can't allocate memory" (RuntimeError).
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 420
BATCH = 1024
N_USERS, N_ITEMS, RANK = 3000, 2000, 16
PER_USER = 30
LR_DROP = 300
EVAL_EVERY = 50
torch.manual_seed(0)

_g = torch.Generator().manual_seed(11)
ITEM_SKUS = (torch.randperm(9_000_000, generator=_g)[:N_ITEMS] * 997 + 1_000_000_000).sort().values
TASTE_U = torch.randn(N_USERS, 4, generator=_g)
TASTE_I = torch.randn(N_ITEMS, 4, generator=_g)
POPULARITY = torch.randn(N_ITEMS, generator=_g) * 0.5
# Every user rated PER_USER items: two thirds for training, the rest held out.
RATED = torch.rand(N_USERS, N_ITEMS, generator=_g).argsort(dim=1)[:, :PER_USER]
TRUE = (TASTE_U[:, None, :] * TASTE_I[RATED]).sum(-1) + POPULARITY[RATED]
RATINGS = (3 + TRUE + 0.3 * torch.randn(TRUE.shape, generator=_g)).clamp(1, 5)
TRAIN_USERS = torch.arange(N_USERS).repeat_interleave(20)
TRAIN_ITEMS = RATED[:, :20].flatten()
TRAIN_RATINGS = RATINGS[:, :20].flatten()
HELD_OUT = RATED[:, 20:]
HELD_OUT_LIKED = RATINGS[:, 20:] >= 4


class MatrixFactorization(nn.Module):
    def __init__(self):
        super().__init__()
        self.users = nn.Embedding(N_USERS, RANK)
        self.items = nn.Embedding(N_ITEMS, RANK)
        self.user_bias = nn.Embedding(N_USERS, 1)
        self.item_bias = nn.Embedding(N_ITEMS, 1)
        for table in (self.users, self.items):
            nn.init.normal_(table.weight, std=0.1)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)
        self.mean = nn.Parameter(torch.tensor(3.0))

    def forward(self, u, i):
        dot = (self.users(u) * self.items(i)).sum(-1)
        return self.mean + dot + self.user_bias(u).squeeze(-1) + self.item_bias(i).squeeze(-1)


def recall_at_10(model):
    seen = torch.zeros(N_USERS, int(ITEM_SKUS.max()) + 1, dtype=torch.bool)
    seen[TRAIN_USERS, TRAIN_ITEMS] = True
    hits, total = 0, 0
    with torch.no_grad():
        for first in range(0, N_USERS, 500):
            users = torch.arange(first, min(first + 500, N_USERS))
            scores = model.users(users) @ model.items.weight.T + model.item_bias.weight.T
            scores[seen[users]] = float("-inf")
            top = scores.topk(10, dim=1).indices
            liked = torch.where(HELD_OUT_LIKED[users], HELD_OUT[users], -1)
            hits += (top[:, :, None] == liked[:, None, :]).any(1).sum().item()
            total += HELD_OUT_LIKED[users].sum().item()
    return hits / max(total, 1)


def main():
    model = MatrixFactorization()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[LR_DROP], gamma=0.2)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        g = torch.Generator().manual_seed(60_000 + step)
        rows = torch.randint(0, len(TRAIN_USERS), (BATCH,), generator=g)
        pred = model(TRAIN_USERS[rows], TRAIN_ITEMS[rows])
        loss = F.mse_loss(pred, TRAIN_RATINGS[rows]) + 1e-4 * (
            model.users.weight.pow(2).sum() + model.items.weight.pow(2).sum()) / BATCH
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step + 1 >= LR_DROP and (step + 1) % EVAL_EVERY == 0:
            print(f"step {step + 1} loss {loss.item():.4f} recall@10 {recall_at_10(model):.4f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
