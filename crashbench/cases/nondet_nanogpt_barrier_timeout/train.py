"""A tiny character-level GPT trained nanoGPT-style: configuration, model and a script-level
training loop without functions.

The data is synthetic arithmetic text ("17+5=22;3+9=12;..."). Every 20 iterations the ranks
synchronise with a barrier before logging (see dist_utils.py).

Fault (nondeterministic): the 8th barrier (iteration 159 of 300) times out once
(TimeoutError). The marker file ``.fault_fired`` records that it fired; a retry or a restart
passes the barrier.
"""

import math
import random

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb
from dist_utils import barrier

# -- configuration -----------------------------------------------------------------------------
batch_size = 16
block_size = 32
n_layer, n_head, n_embd = 2, 4, 48
max_iters = 300
learning_rate, min_lr, warmup_iters = 3e-3, 3e-4, 30
sync_interval = 20
torch.manual_seed(1337)

# -- data ----------------------------------------------------------------------------------------
rng = random.Random(0)
text = "".join(f"{a}+{b}={a + b};" for a, b in ((rng.randint(0, 99), rng.randint(0, 99)) for _ in range(20_000)))
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
split = int(0.9 * len(data))
train_data, val_data = data[:split], data[split:]


# -- model ---------------------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(n_embd, dim=2)
        q, k, v = (z.view(b, t, n_head, c // n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention()
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(len(chars), n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, len(chars), bias=False)

    def forward(self, idx, targets=None):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        logits = self.lm_head(self.ln_f(self.blocks(x)))
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        return logits, loss


# -- training ------------------------------------------------------------------------------------
model = GPT()
optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.95), weight_decay=0.1)
checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
iter_num = checkpoints.restore()
best_val_loss = checkpoints.extra.get("best_val_loss", float("inf"))
loss = torch.tensor(0.0)
while iter_num < max_iters:
    cb.step(iter_num)
    # learning rate: linear warmup, then cosine decay
    if iter_num < warmup_iters:
        lr = learning_rate * (iter_num + 1) / warmup_iters
    else:
        progress = (iter_num - warmup_iters) / (max_iters - warmup_iters)
        lr = min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (learning_rate - min_lr)
    for group in optimizer.param_groups:
        group["lr"] = lr
    ix = torch.randint(len(train_data) - block_size - 1, (batch_size,))
    x = torch.stack([train_data[i:i + block_size] for i in ix])
    y = torch.stack([train_data[i + 1:i + 1 + block_size] for i in ix])
    logits, loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    iter_num += 1
    if iter_num % sync_interval == 0:
        barrier()
        if iter_num % 100 == 0:
            model.eval()
            with torch.no_grad():
                vx = torch.stack([val_data[i:i + block_size] for i in range(0, 64 * block_size, block_size)])
                vy = torch.stack([val_data[i + 1:i + 1 + block_size] for i in range(0, 64 * block_size, block_size)])
                val_loss = model(vx, vy)[1].item()
            model.train()
            best_val_loss = min(best_val_loss, val_loss)
            print(f"iter {iter_num}: train loss {loss.item():.4f}, val loss {val_loss:.4f}, lr {lr:.2e}", flush=True)
    checkpoints.extra["best_val_loss"] = best_val_loss
    checkpoints.save_if_due(iter_num)

cb.final(checksum=cb.checksum(model), loss=loss.item(), best_val_loss=best_val_loss)
