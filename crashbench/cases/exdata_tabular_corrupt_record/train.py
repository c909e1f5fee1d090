"""Train an MLP on tabular records read from a CSV file, 64 records a step.

Bug (exceptional data): record 16017 has a damaged field (``n/a``); parsing the chunk of step
250 (of 500) raises ValueError.
"""

import os

import torch
import torch.nn.functional as F

import cb_support as cb
from data import CLASSES, FEATURES, RecordFile, parse_record, statistics
from model import TabularMLP

STEPS = 500
BATCH = 64
HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


def main():
    records = RecordFile(os.path.join(HERE, "records.csv"), STEPS * BATCH)
    mean, std = statistics(records)
    model = TabularMLP(FEATURES, CLASSES)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    rows_seen = checkpoints.extra.get("rows_seen", 0)
    correct = checkpoints.extra.get("correct", 0)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        lines = records.chunk(step, BATCH)
        rows = [parse_record(line) for line in lines]
        x = (torch.tensor([features for features, _ in rows]) - mean) / std
        y = torch.tensor([label for _, label in rows])
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        rows_seen += len(rows)
        correct += int((logits.argmax(1) == y).sum())
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} running accuracy {correct / rows_seen:.3f}", flush=True)
        checkpoints.extra.update(rows_seen=rows_seen, correct=correct)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), rows=rows_seen, correct=correct)


if __name__ == "__main__":
    main()
