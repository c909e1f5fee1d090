"""Tabular classifier, DDP on gloo: DistributedSampler, OneCycleLR per step, all-reduced metrics."""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def get_args():
    parser = argparse.ArgumentParser(description="DDP classifier")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--log-interval", type=int, default=10)
    parser.add_argument("--out", default="checkpoints")
    return parser.parse_args()


class MLP(nn.Module):
    def __init__(self, d_in=16, hidden=64, n_classes=4):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        x = F.gelu(self.fc1(x))
        x = self.drop(F.gelu(self.fc2(x)))
        return self.head(x)


def make_dataset(n=4096, d_in=16, n_classes=4):
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(n, d_in, generator=g)
    w = torch.randn(d_in, n_classes, generator=g)
    y = (x @ w + 0.1 * torch.randn(n, n_classes, generator=g)).argmax(1)
    return TensorDataset(x, y)


def main():
    args = get_args()
    dist.init_process_group(backend="gloo")
    rank = dist.get_rank()
    world_size = dist.get_world_size()
    torch.manual_seed(args.seed + rank)

    dataset = make_dataset()
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, drop_last=True)

    model = DDP(MLP())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * len(loader)
    )

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        print(f"world_size={world_size} steps/epoch={len(loader)}", flush=True)

    global_step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()

            stats = torch.tensor([loss.item(), (logits.argmax(1) == y).float().mean().item()])
            dist.all_reduce(stats, op=dist.ReduceOp.SUM)
            stats /= world_size
            if rank == 0 and global_step % args.log_interval == 0:
                print(
                    f"epoch {epoch} step {global_step} loss {stats[0].item():.6f} "
                    f"acc {stats[1].item():.4f} lr {scheduler.get_last_lr()[0]:.6e}",
                    flush=True,
                )
            global_step += 1

        if rank == 0:
            torch.save(
                {"epoch": epoch, "model": model.module.state_dict(), "optimizer": optimizer.state_dict()},
                os.path.join(args.out, "last.pt"),
            )
        dist.barrier()

    checksum = sum(p.double().sum().item() for p in model.parameters())
    print(f"rank {rank} final checksum {checksum:.12f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
