"""Character-level transformer language model (two pre-norm blocks with causal
self-attention) on a synthetic corpus: words from a fixed lexicon, drawn with a skewed
distribution. Training takes random 32-character windows of a 1M-character training stream;
every 150 steps the loss is estimated on windows of a 4M-character held-out stream.

Bug (OOM): the evaluation builds its causal mask with the length of the whole held-out stream
(``len(VAL)``) instead of the window length, i.e. a 4M x 4M float mask (64 TB); the first
evaluation (after step 149 of 300) fails at once with "DefaultCPUAllocator: can't allocate
memory" (RuntimeError).
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
BATCH = 16
BLOCK = 32
EVAL_EVERY = 150
EVAL_WINDOWS = 64
torch.manual_seed(0)

LEXICON = ("the of and to in is was that for on are with as by at from this have not but "
           "model train loss graph tensor layer token batch step learn data value point").split()
CHARS = sorted(set("".join(LEXICON)) | {" ", "."})
STOI = {c: i for i, c in enumerate(CHARS)}
WORDS = torch.full((len(LEXICON), 8), -1)
for row, word in enumerate(LEXICON):
    spelled = [STOI[c] for c in word] + [STOI["."] if row % 7 == 0 else STOI[" "]]
    WORDS[row, : len(spelled)] = torch.tensor(spelled)


def stream(seed, n_chars):
    g = torch.Generator().manual_seed(seed)
    weights = 1.0 / torch.arange(1, len(LEXICON) + 1).float()
    ids = torch.multinomial(weights, n_chars // 3, replacement=True, generator=g)
    chars = WORDS[ids].flatten()
    return chars[chars >= 0][:n_chars]


TRAIN = stream(1, 1_000_000)
VAL = stream(2, 4_000_000)


def causal_mask(size):
    return torch.full((size, size), float("-inf")).triu(1)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab, d=48, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(BLOCK, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx, mask):
        x = self.tok(idx) + self.pos(torch.arange(idx.size(1)))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


def windows(data, starts):
    offsets = torch.arange(BLOCK)
    return data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]


def evaluate(model):
    starts = torch.linspace(0, len(VAL) - BLOCK - 2, EVAL_WINDOWS).long()
    x, y = windows(VAL, starts)
    mask = causal_mask(len(VAL))
    with torch.no_grad():
        logits = model(x, mask)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten()).item()


def main():
    model = CharTransformer(len(CHARS))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    mask = causal_mask(BLOCK)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        g = torch.Generator().manual_seed(40_000 + step)
        x, y = windows(TRAIN, torch.randint(0, len(TRAIN) - BLOCK - 1, (BATCH,), generator=g))
        logits = model(x, mask)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % EVAL_EVERY == 0:
            print(f"step {step + 1} loss {loss.item():.4f} val loss {evaluate(model):.4f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
