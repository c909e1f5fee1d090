"""Multi-file project (model.py / data.py / train.py): a fastText-style bag-of-words topic
classifier on a synthetic corpus, SGD with momentum and a cosine schedule with warm restarts
every epoch (40 steps). Every 3 epochs a per-class accuracy report is printed, with the class
names read (once) from ``assets/labels.txt``.

Bug (path problem): the label file is opened at ``<dir of train.py>/../assets/labels.txt``,
a path left over from when the script lived in a ``scripts/`` subfolder; the first report
(after step 119 of 360) raises FileNotFoundError.
"""

import os

import torch
import torch.nn.functional as F

import cb_support as cb
import data
from model import BagOfWordsClassifier

EPOCH = 40
EPOCHS = 9
STEPS = EPOCH * EPOCHS
REPORT_EVERY = 3 * EPOCH
BATCH = 64
torch.manual_seed(0)


def per_class_accuracy(model):
    tokens, offsets, labels = data.documents(seed=-1, n=1000)
    with torch.no_grad():
        pred = model(tokens, offsets).argmax(1)
    return [(pred[labels == c] == c).float().mean().item() for c in range(data.TOPICS)]


def main():
    model = BagOfWordsClassifier(data.VOCAB, data.TOPICS)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=EPOCH)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    label_names = None
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        tokens, offsets, labels = data.documents(seed=step, n=BATCH)
        loss = F.cross_entropy(model(tokens, offsets), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % REPORT_EVERY == 0:
            if label_names is None:
                label_names = data.load_label_names(os.path.join(os.path.dirname(__file__), "..", "assets", "labels.txt"))
            accuracies = per_class_accuracy(model)
            report = ", ".join(f"{name} {acc:.2f}" for name, acc in zip(label_names, accuracies))
            print(f"step {step + 1} loss {loss.item():.4f} | {report}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=sum(per_class_accuracy(model)) / data.TOPICS)


if __name__ == "__main__":
    main()
