"""Small transformer encoder that classifies token sequences.

Task: sequences of 16 tokens (vocabulary of 16); the class is which of the four marker tokens
1-4 occurs most often (ties go to the smaller one). Batches are a deterministic function of the
step. The annotation tool writes -1 for an example nobody labelled.

Bug (exceptional data): one unlabelled example (label -1) slipped into the batch of step 330
(of 450); cross_entropy rejects the target with IndexError.
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 450
BATCH = 32
LENGTH = 16
VOCAB = 16
CLASSES = 4
UNLABELLED = -1
torch.manual_seed(0)


def batch(step):
    g = torch.Generator().manual_seed(5_000 + step)
    tokens = torch.randint(0, VOCAB, (BATCH, LENGTH), generator=g)
    counts = torch.stack([(tokens == marker).sum(1) for marker in range(1, CLASSES + 1)], dim=1)
    labels = counts.argmax(1)
    if step == 330:
        labels[11] = UNLABELLED  # an example the annotators never labelled
    return tokens, labels


class Classifier(nn.Module):
    def __init__(self, dim=32, heads=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim)
        self.position = nn.Parameter(torch.randn(LENGTH, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, tokens):
        hidden = self.encoder(self.embed(tokens) + self.position)
        return self.head(hidden.mean(dim=1))


def train():
    model = Classifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 50))
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=warmup)
    start = checkpoints.restore()
    accuracy = checkpoints.extra.get("accuracy", 0.0)
    loss = torch.tensor(0.0)
    model.train()
    for step in range(start, STEPS):
        cb.step(step)
        tokens, labels = batch(step)
        logits = model(tokens)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        warmup.step()
        accuracy = 0.9 * accuracy + 0.1 * (logits.argmax(1) == labels).float().mean().item()
        if (step + 1) % 50 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} accuracy {accuracy:.3f}", flush=True)
        checkpoints.extra["accuracy"] = accuracy
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=accuracy)


if __name__ == "__main__":
    train()
