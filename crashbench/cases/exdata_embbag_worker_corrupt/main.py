"""Topic classifier with an EmbeddingBag over a stream of text shards, loaded by a DataLoader
with two worker processes.

Each epoch reads a new shard of 3200 raw records (space-separated token ids, drawn from one of
four topic distributions; the topic is the label). ``__getitem__`` parses a record in the worker.

Bug (exceptional data): record 1717 of shard 2 was truncated and ends in garbage (``7?#``); its
parse raises ValueError inside a worker, and the DataLoader re-raises it in the main process when
the batch of step 209 is requested (the last step started is 208; 400 steps in all).
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

import cb_support as cb

EPOCHS = 4
RECORDS = 3200
BATCH = 32
STEPS_PER_EPOCH = RECORDS // BATCH
VOCAB = 500
TOPICS = 4
torch.manual_seed(0)

_topic_gen = torch.Generator().manual_seed(99)
TOPIC_WORDS = 0.75 / VOCAB + 0.25 * torch.softmax(2.0 * torch.randn(TOPICS, VOCAB, generator=_topic_gen), dim=1)


def raw_record(shard, index):
    """The text of a record as stored: token ids separated by spaces."""
    g = torch.Generator().manual_seed(shard * 1_000_003 + index)
    topic = int(torch.randint(0, TOPICS, (1,), generator=g))
    length = int(torch.randint(8, 40, (1,), generator=g))
    ids = torch.multinomial(TOPIC_WORDS[topic], length, replacement=True, generator=g)
    text = " ".join(str(i) for i in ids.tolist())
    if (shard, index) == (2, 1717):
        text = text[: len(text) // 2] + "?#"  # truncated on upload
    return f"{topic}\t{text}"


class ShardDataset(Dataset):
    def __init__(self, shard):
        self.shard = shard

    def __len__(self):
        return RECORDS

    def __getitem__(self, index):
        label, text = raw_record(self.shard, index).split("\t")
        ids = [int(token) for token in text.split()]
        return torch.tensor(ids), int(label)


class EpochSampler(Sampler):
    """A seeded permutation of the shard, from position *start* on (for restarts)."""

    def __init__(self, size, epoch, start=0):
        self.order = torch.randperm(size, generator=torch.Generator().manual_seed(epoch)).tolist()[start:]

    def __len__(self):
        return len(self.order)

    def __iter__(self):
        return iter(self.order)


def collate(samples):
    ids = [s[0] for s in samples]
    offsets = torch.tensor([0] + [len(t) for t in ids[:-1]]).cumsum(0)
    return torch.cat(ids), offsets, torch.tensor([s[1] for s in samples])


class BagClassifier(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.bag = nn.EmbeddingBag(VOCAB, dim, mode="mean")
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, TOPICS))

    def forward(self, ids, offsets):
        return self.head(self.bag(ids, offsets))


def train():
    model = BagClassifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    batches = checkpoints.extra.get("batches", 0)
    correct = checkpoints.extra.get("correct", 0)
    loss = torch.tensor(0.0)
    for epoch in range(start // STEPS_PER_EPOCH, EPOCHS):
        skip = start - epoch * STEPS_PER_EPOCH if start > epoch * STEPS_PER_EPOCH else 0
        loader = DataLoader(
            ShardDataset(epoch), batch_size=BATCH, sampler=EpochSampler(RECORDS, epoch, skip * BATCH),
            num_workers=2, collate_fn=collate, drop_last=True,
        )
        for i, (ids, offsets, labels) in enumerate(loader):
            step = epoch * STEPS_PER_EPOCH + skip + i
            cb.step(step)
            logits = model(ids, offsets)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches += 1
            correct += int((logits.argmax(1) == labels).sum())
            checkpoints.extra.update(batches=batches, correct=correct)
            checkpoints.save_if_due(step + 1)
        print(f"epoch {epoch} loss {loss.item():.4f} batches {batches} accuracy {correct / (batches * BATCH):.3f}", flush=True)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), batches=batches, correct=correct)


if __name__ == "__main__":
    train()
