"""Word-level LSTM language model on a synthetic corpus (sentences from a small template
grammar). The token stream is laid out as 32 parallel rows and trained with truncated
backpropagation through time (30-token windows; the hidden state is carried across windows
and reset at each epoch). At the end of every epoch the validation perplexity is computed on
a held-out stream laid out as 10 rows (one pass over all of it).

Bug (tensor mismatch): the validation initialises its hidden state with the *training*
batch size (32 rows) while the validation stream has 10 rows, so the first validation (end of
epoch 1, step 29 of 210) fails in the LSTM with "Expected hidden[0] size (1, 10, 96), got
[1, 32, 96]" (RuntimeError).
"""

import math
import random

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

BATCH = 32
EVAL_BATCH = 10
BPTT = 30
BATCHES_PER_EPOCH = 30
EPOCHS = 7
STEPS = EPOCHS * BATCHES_PER_EPOCH
torch.manual_seed(0)

NOUNS = "cat dog bird model tensor graph teacher student river city".split()
VERBS = "sees likes trains follows builds crosses reads".split()
ADJS = "small large quick lazy deep shallow bright".split()
ADVS = "quickly slowly rarely often".split()


def sentence(rng):
    words = ["the", rng.choice(ADJS), rng.choice(NOUNS), rng.choice(VERBS)]
    if rng.random() < 0.5:
        words += ["the", rng.choice(NOUNS)]
    else:
        words += ["a", rng.choice(ADJS), rng.choice(NOUNS), rng.choice(ADVS)]
    return words + ["."]


def corpus(seed, n_tokens):
    rng = random.Random(seed)
    words = []
    while len(words) < n_tokens:
        words += sentence(rng)
    return words[:n_tokens]


VOCAB = {w: i for i, w in enumerate(sorted(set(NOUNS + VERBS + ADJS + ADVS + ["the", "a", "."])))}


def batchify(words, rows):
    ids = torch.tensor([VOCAB[w] for w in words])
    return ids[: len(ids) // rows * rows].view(rows, -1)


TRAIN = batchify(corpus(1, BATCH * BPTT * BATCHES_PER_EPOCH + BATCH), BATCH)
VALID = batchify(corpus(2, EVAL_BATCH * 300), EVAL_BATCH)


class LanguageModel(nn.Module):
    def __init__(self, vocab, emb=48, hidden=96):
        super().__init__()
        self.hidden_size = hidden
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state):
        output, state = self.lstm(self.embed(x), state)
        return self.out(output), state

    def init_hidden(self, rows):
        zeros = torch.zeros(1, rows, self.hidden_size)
        return zeros, zeros.clone()


def evaluate(model):
    hidden = model.init_hidden(BATCH)
    with torch.no_grad():
        logits, _ = model(VALID[:, :-1], hidden)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), VALID[:, 1:].reshape(-1))
    return math.exp(loss.item())


def main():
    model = LanguageModel(len(VOCAB))
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    hidden = checkpoints.extra.get("hidden")
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        epoch, index = divmod(step, BATCHES_PER_EPOCH)
        if index == 0:
            hidden = model.init_hidden(BATCH)
        x = TRAIN[:, index * BPTT:(index + 1) * BPTT]
        y = TRAIN[:, index * BPTT + 1:(index + 1) * BPTT + 1]
        hidden = tuple(h.detach() for h in hidden)
        logits, hidden = model(x, hidden)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        checkpoints.extra["hidden"] = hidden
        if index == BATCHES_PER_EPOCH - 1:
            print(f"epoch {epoch + 1} loss {loss.item():.4f} valid ppl {evaluate(model):.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
