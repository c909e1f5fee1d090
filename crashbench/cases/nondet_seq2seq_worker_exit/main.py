"""GRU encoder-decoder that learns to reverse digit sequences (teacher forcing, greedy eval).

Batches come from a loader that prepares them in worker processes (simulated here by a
deterministic generator behind the same interface). Each batch has its own length (5-10).

Fault (nondeterministic): a loader worker dies once, at the batch of step 60 (of 350):
RuntimeError "DataLoader worker (pid(s) ...) exited unexpectedly", as PyTorch reports a worker
killed by the OOM killer or a signal. The marker file ``.fault_fired`` next to this program
records that it fired; a retry or a restart gets the batch.
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 350
BATCH = 64
DIGITS = 10
BOS = DIGITS
HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = os.path.join(HERE, ".fault_fired")
torch.manual_seed(0)


class Loader:
    """Hands out the batch of a step (source digits, decoder inputs, targets)."""

    def __init__(self, batch_size, seed=0):
        self.batch_size = batch_size
        self.seed = seed

    def get(self, step):
        if step == 60 and not os.path.exists(MARKER):
            open(MARKER, "w").close()
            raise RuntimeError(f"DataLoader worker (pid(s) {os.getpid() + 3}) exited unexpectedly")
        return self.make(step)

    def make(self, step):
        g = torch.Generator().manual_seed(self.seed * 100_003 + step)
        length = int(torch.randint(5, 11, (1,), generator=g))
        source = torch.randint(0, DIGITS, (self.batch_size, length), generator=g)
        target = source.flip(1)
        decoder_in = torch.cat([torch.full((self.batch_size, 1), BOS), target[:, :-1]], dim=1)
        return source, decoder_in, target


class Seq2Seq(nn.Module):
    def __init__(self, dim=32, hidden=128):
        super().__init__()
        self.src_embed = nn.Embedding(DIGITS, dim)
        self.tgt_embed = nn.Embedding(DIGITS + 1, dim)
        self.encoder = nn.GRU(dim, hidden, batch_first=True)
        self.decoder = nn.GRU(dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, DIGITS)

    def forward(self, source, decoder_in):
        _, state = self.encoder(self.src_embed(source))
        hidden, _ = self.decoder(self.tgt_embed(decoder_in), state)
        return self.out(hidden)

    @torch.no_grad()
    def generate(self, source):
        _, state = self.encoder(self.src_embed(source))
        token = torch.full((len(source), 1), BOS)
        outputs = []
        for _ in range(source.shape[1]):
            hidden, state = self.decoder(self.tgt_embed(token), state)
            token = self.out(hidden).argmax(-1)
            outputs.append(token)
        return torch.cat(outputs, dim=1)


def exact_match(model, loader):
    source, _, target = loader.make(-1)
    return (model.generate(source) == target).all(1).float().mean().item()


def train():
    loader = Loader(BATCH)
    eval_loader = Loader(256, seed=7)
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=STEPS)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        source, decoder_in, target = loader.get(step)
        logits = model(source, decoder_in)
        loss = F.cross_entropy(logits.reshape(-1, DIGITS), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if (step + 1) % 70 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} exact match {exact_match(model, eval_loader):.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), exact_match=exact_match(model, eval_loader))


if __name__ == "__main__":
    train()
