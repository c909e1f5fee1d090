"""torchvision-reference style: utils-like helpers, @record main, train_one_epoch(), warmup LambdaLR
per step, bf16 autocast on CPU, gradient clipping, save_on_master with a barrier."""
import argparse
import datetime
import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.elastic.multiprocessing.errors import record
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def init_distributed_mode(args):
    args.rank = int(os.environ["RANK"])
    args.world_size = int(os.environ["WORLD_SIZE"])
    args.gpu = int(os.environ["LOCAL_RANK"])
    args.distributed = True
    print(f"| distributed init (rank {args.rank}): env://", flush=True)
    dist.init_process_group(backend="gloo", init_method="env://", world_size=args.world_size, rank=args.rank,
                            timeout=datetime.timedelta(minutes=5))
    dist.barrier()


def is_main_process():
    return dist.get_rank() == 0


def save_on_master(*args, **kwargs):
    if is_main_process():
        torch.save(*args, **kwargs)


def reduce_value(value):
    t = torch.tensor(value, dtype=torch.float64)
    dist.all_reduce(t)
    return t.item() / dist.get_world_size()


def train_one_epoch(model, criterion, optimizer, lr_scheduler, data_loader, epoch, args):
    model.train()
    header = f"Epoch: [{epoch}]"
    start = time.time()
    for i, (image, target) in enumerate(data_loader):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=args.amp):
            output = model(image)
            loss = criterion(output.float(), target)
        optimizer.zero_grad()
        loss.backward()
        if args.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad_norm)
        optimizer.step()
        lr_scheduler.step()
        loss_avg = reduce_value(loss.item())
        if i % args.print_freq == 0 and is_main_process():
            print(f"{header} [{i}/{len(data_loader)}] loss: {loss_avg:.6f} lr: {optimizer.param_groups[0]['lr']:.6f}",
                  flush=True)
    if is_main_process():
        print(f"{header} done ({len(data_loader)} it)", flush=True)


def main(args):
    init_distributed_mode(args)
    torch.manual_seed(args.seed + args.rank)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3072, 24, generator=g)
    y = (x[:, :8].sum(1) > 0).long() + (x[:, 8:16].sum(1) > 0).long()
    dataset = TensorDataset(x, y)
    sampler = DistributedSampler(dataset)
    data_loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, drop_last=True)

    model = nn.Sequential(nn.Linear(24, 96), nn.ReLU(), nn.Dropout(0.1), nn.Linear(96, 96), nn.ReLU(), nn.Linear(96, 3))
    model_without_ddp = model
    model = nn.parallel.DistributedDataParallel(model)
    model_without_ddp = model.module
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    iters = args.epochs * len(data_loader)
    warmup = args.lr_warmup_iters
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: (it + 1) / warmup if it < warmup else max(0.0, (iters - it) / (iters - warmup))
    )

    print("Start training", flush=True) if is_main_process() else None
    start_time = time.time()
    for epoch in range(args.start_epoch, args.epochs):
        sampler.set_epoch(epoch)
        train_one_epoch(model, criterion, optimizer, lr_scheduler, data_loader, epoch, args)
        if args.output_dir:
            checkpoint = {"model": model_without_ddp.state_dict(), "optimizer": optimizer.state_dict(),
                          "lr_scheduler": lr_scheduler.state_dict(), "epoch": epoch, "args": args}
            save_on_master(checkpoint, os.path.join(args.output_dir, "checkpoint.pth"))
        dist.barrier()
    total_time = str(datetime.timedelta(seconds=int(time.time() - start_time)))
    checksum = sum(p.double().sum().item() for p in model.parameters())
    print(f"rank {args.rank} final checksum {checksum:.12f}", flush=True)
    if is_main_process():
        print(f"Training time {total_time}" if False else "Training done", flush=True)
    dist.destroy_process_group()


def get_args_parser(add_help=True):
    parser = argparse.ArgumentParser(description="PyTorch Classification Training", add_help=add_help)
    parser.add_argument("--batch-size", default=32, type=int)
    parser.add_argument("--epochs", default=4, type=int)
    parser.add_argument("--lr", default=2e-3, type=float)
    parser.add_argument("--wd", "--weight-decay", default=0.05, type=float, dest="weight_decay")
    parser.add_argument("--lr-warmup-iters", default=20, type=int)
    parser.add_argument("--print-freq", default=10, type=int)
    parser.add_argument("--output-dir", default=".", type=str)
    parser.add_argument("--start-epoch", default=0, type=int)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--clip-grad-norm", default=1.0, type=float)
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    return parser


if __name__ == "__main__":
    args = get_args_parser().parse_args()
    record(main)(args)
