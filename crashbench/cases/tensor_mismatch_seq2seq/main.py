"""Seq2seq with attention that learns to sort digit sequences: a GRU encoder, a GRU-cell
decoder with dot-product attention over the encoder states (padding masked) and teacher
forcing. Curriculum: sequences of 3-6 digits (padded to 6) for the first 180 steps, then 3-10
digits (padded to 10).

Bug (tensor mismatch): the attention's padding mask is built with ``torch.arange(MAX_LEN)``,
the stage-1 length, instead of the actual source length; at the first stage-2 batch (step 180
of 300) the mask is (B, 6) against scores of (B, 10) and ``masked_fill`` raises RuntimeError.
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
BATCH = 32
CURRICULUM = 180
MAX_LEN = 6
PAD, BOS, VOCAB = 0, 10, 11
torch.manual_seed(0)


def batch(step):
    pad_to = MAX_LEN if step < CURRICULUM else 10
    g = torch.Generator().manual_seed(70_000 + step)
    lengths = torch.randint(3, pad_to + 1, (BATCH,), generator=g)
    digits = torch.randint(1, 10, (BATCH, pad_to), generator=g)
    valid = torch.arange(pad_to)[None, :] < lengths[:, None]
    src = torch.where(valid, digits, PAD)
    tgt = torch.where(valid, digits.masked_fill(~valid, 99).sort(dim=1).values, PAD)
    return src, lengths, tgt


class Seq2Seq(nn.Module):
    def __init__(self, emb=24, hidden=48):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, emb, padding_idx=PAD)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.cell = nn.GRUCell(emb + hidden, hidden)
        self.out = nn.Linear(2 * hidden, VOCAB)

    def forward(self, src, src_len, tgt):
        enc, last = self.encoder(self.embed(src))
        return self.decode(enc, last[0], src_len, tgt)

    def decode(self, enc, h, src_len, tgt):
        prev = torch.full((len(tgt),), BOS)
        context = torch.zeros_like(h)
        logits = []
        for t in range(tgt.size(1)):
            h = self.cell(torch.cat([self.embed(prev), context], dim=1), h)
            scores = torch.einsum("bh,bsh->bs", h, enc)
            scores = scores.masked_fill(torch.arange(MAX_LEN)[None, :] >= src_len[:, None], float("-inf"))
            context = torch.einsum("bs,bsh->bh", scores.softmax(dim=1), enc)
            logits.append(self.out(torch.cat([h, context], dim=1)))
            prev = tgt[:, t]
        return torch.stack(logits, dim=1)


def main():
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss, accuracy = torch.tensor(0.0), 0.0
    for step in range(start, STEPS):
        cb.step(step)
        src, src_len, tgt = batch(step)
        logits = model(src, src_len, tgt)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        mask = tgt != PAD
        accuracy = ((logits.argmax(-1) == tgt) & mask).sum().item() / mask.sum().item()
        if (step + 1) % 60 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} token accuracy {accuracy:.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=accuracy)


if __name__ == "__main__":
    main()
