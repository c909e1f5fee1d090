"""Synthetic tabular records: a CSV file (written on first use) and its parser.

Each record has 12 numeric features and a class label (0-2) given by a fixed hidden linear rule
with noise. Record 16017 was damaged on export: one field reads ``n/a``.
"""

import os

import torch

FEATURES = 12
CLASSES = 3
CORRUPT = 16017


def write_records(path, count, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(count, FEATURES, generator=g) * torch.linspace(0.5, 3.0, FEATURES) + torch.linspace(-2, 2, FEATURES)
    w = torch.randn(FEATURES, CLASSES, generator=g)
    y = (x @ w + 0.5 * torch.randn(count, CLASSES, generator=g)).argmax(1)
    lines = []
    for index, (features, label) in enumerate(zip(x.tolist(), y.tolist())):
        fields = [f"{v:.5f}" for v in features]
        if index == CORRUPT:
            fields[7] = "n/a"
        lines.append(",".join(fields + [str(label)]) + "\n")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,label\n")
        handle.writelines(lines)
    os.replace(tmp, path)


class RecordFile:
    """The records of a CSV file, served in consecutive chunks."""

    def __init__(self, path, count):
        if not os.path.exists(path):
            write_records(path, count)
        with open(path, encoding="utf-8") as handle:
            self.lines = handle.readlines()[1:]

    def chunk(self, index, size):
        return self.lines[index * size:(index + 1) * size]


def parse_record(line):
    """One CSV line as (features, label)."""
    *fields, label = line.rstrip("\n").split(",")
    return [float(v) for v in fields], int(label)


def statistics(records, count=2048):
    """Per-feature mean and standard deviation over the first *count* records."""
    rows = [parse_record(line)[0] for line in records.lines[:count]]
    x = torch.tensor(rows)
    return x.mean(0), x.std(0)
