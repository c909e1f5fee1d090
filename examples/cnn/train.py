"""Train SmallCNN on the synthetic shapes data.

    python train.py --epochs 4 --lr 0.05
"""

import argparse
import os

import torch
import torch.nn.functional as F

from data import CLASSES, make_loaders
from model import SmallCNN, count_parameters


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--width", type=int, default=8, help="channels of the first conv")
    parser.add_argument("--log-every", type=int, default=4, help="batches between log lines")
    parser.add_argument("--out", default="out", help="checkpoint folder")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def train_one_epoch(model, loader, optimizer, epoch, log_every):
    model.train()
    running, seen = 0.0, 0
    for step, (images, labels) in enumerate(loader):
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        running += loss.item() * images.size(0)
        seen += images.size(0)
        if step % log_every == 0:
            print(f"epoch {epoch} step {step:3d} loss {loss.item():.6f}")
    return running / seen


def evaluate(model, loader):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    per_class = torch.zeros(len(CLASSES), dtype=torch.long)
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            preds = logits.argmax(dim=1)
            correct += (preds == labels).sum().item()
            count += labels.numel()
            # hits per class, to spot a class the model ignores
            per_class += torch.bincount(labels[preds == labels], minlength=len(CLASSES))
    return total_loss / count, correct / count, per_class


def save_checkpoint(path, model, optimizer, scheduler, epoch, val_acc):
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "val_acc": val_acc,
        },
        path,
    )


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    train_loader, val_loader = make_loaders(args.batch_size, args.seed)
    model = SmallCNN(num_classes=len(CLASSES), width=args.width)
    print(f"model: {count_parameters(model)} parameters, {len(train_loader)} batches per epoch")
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                                weight_decay=args.weight_decay)
    # cosine annealing over the whole run, one scheduler step per epoch
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    best_acc = 0.0
    for epoch in range(args.epochs):
        train_loss = train_one_epoch(model, train_loader, optimizer, epoch, args.log_every)
        val_loss, val_acc, per_class = evaluate(model, val_loader)
        scheduler.step()
        print(f"epoch {epoch}: train loss {train_loss:.6f} val loss {val_loss:.6f} "
              f"val acc {val_acc:.4f} per class {per_class.tolist()} lr {scheduler.get_last_lr()[0]:.6f}")
        save_checkpoint(os.path.join(args.out, "last.pt"), model, optimizer, scheduler, epoch, val_acc)
        if val_acc > best_acc:
            best_acc = val_acc
            save_checkpoint(os.path.join(args.out, "best.pt"), model, optimizer, scheduler, epoch, val_acc)

    checksum = sum(p.detach().double().sum().item() for p in model.parameters())
    print(f"best val acc {best_acc:.4f}")
    print(f"weights checksum {checksum:.10f}")


if __name__ == "__main__":
    main()
