"""CNN classifier on synthetic images; evaluates every 200 steps.

Bug (API misuse): the evaluation flattens a transposed feature map with .view(), which needs a
contiguous tensor; it crashes at the first evaluation (step 200 of 400).
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 400
EVAL_EVERY = 200
torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(16 * 4 * 4, 2)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def batch(step, size=32):
    g = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(size, 1, 16, 16, generator=g)
    y = (x[:, :, :8].mean(dim=(1, 2, 3)) > x[:, :, 8:].mean(dim=(1, 2, 3))).long()
    return x, y


def evaluate(model):
    x, y = batch(-1, size=256)
    with torch.no_grad():
        features = model.features(x)
        flat = features.transpose(1, 3).view(len(features), -1)
        logits = model.head(flat.reshape(len(x), 16, 4, 4).transpose(1, 3).reshape(len(x), -1))
        return (logits.argmax(1) == y).float().mean().item()


def main():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = batch(step)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % EVAL_EVERY == 0:
            accuracy = evaluate(model)
            print(f"step {step + 1} loss {loss.item():.4f} accuracy {accuracy:.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
