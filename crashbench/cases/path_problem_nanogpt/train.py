"""nanoGPT-style training script, with no functions at all: configuration as module globals,
overridden by exec'ing a config string (as a config file would be), a synthetic character
corpus, a small causal transformer built from torch.nn modules, and the training loop at
module level (linear warm-up then cosine learning-rate decay, periodic evaluation). When the
decay ends, a release copy of the weights is exported to ``<out_dir>/release/``.

Bug (path problem): the script creates ``out_dir`` but never its ``release/`` subfolder, so
the export (at iteration 240 of 300, the end of the decay) fails in torch.save with
"Parent directory out-chars/release does not exist." (RuntimeError).
"""

import math
import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

# -----------------------------------------------------------------------------
# default config values
out_dir = "out"
eval_interval = 100
eval_batches = 4
batch_size = 16
block_size = 32
n_layer = 2
n_head = 4
n_embd = 48
learning_rate = 3e-3
max_iters = 1000
warmup_iters = 50
lr_decay_iters = 1000
min_lr = 3e-4
weight_decay = 0.1
grad_clip = 1.0
seed = 1337
config_keys = [k for k, v in globals().items() if not k.startswith("_") and isinstance(v, (int, float, bool, str))]
# overrides, as from config/train_chars.py
exec("""
out_dir = 'out-chars'
max_iters = 300
lr_decay_iters = 240
eval_interval = 60
batch_size = 12
n_embd = 32
""")
config = {k: globals()[k] for k in config_keys}
# -----------------------------------------------------------------------------

os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(seed)

# data: a synthetic "language" of syllables, encoded per character
syllables = ["ka", "to", "mi", "re", "su", "na", "lo", "pe", "di", "gu", " ", " ", ".\n"]
g = torch.Generator().manual_seed(seed)
picks = torch.randint(0, len(syllables), (60_000,), generator=g)
text = "".join(syllables[i] for i in picks.tolist())
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
encoded = torch.tensor([stoi[c] for c in text])
n = int(0.9 * len(encoded))
train_data, val_data = encoded[:n], encoded[n:]
vocab_size = len(chars)

# model: token + position embeddings, pre-norm causal transformer blocks, tied head
layer = nn.TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout=0.0, activation="gelu",
                                   batch_first=True, norm_first=True)
model = nn.ModuleDict(dict(
    wte=nn.Embedding(vocab_size, n_embd),
    wpe=nn.Embedding(block_size, n_embd),
    h=nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False),
    ln_f=nn.LayerNorm(n_embd),
))
causal = nn.Transformer.generate_square_subsequent_mask(block_size)
positions = torch.arange(block_size)
decay = [p for name, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for name, p in model.named_parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=learning_rate, betas=(0.9, 0.95))
checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
iter_num = checkpoints.restore()
loss = torch.tensor(0.0)

while iter_num < max_iters:
    cb.step(iter_num)
    # learning rate: linear warm-up, cosine decay to min_lr, then constant
    if iter_num < warmup_iters:
        lr = learning_rate * (iter_num + 1) / (warmup_iters + 1)
    elif iter_num > lr_decay_iters:
        lr = min_lr
    else:
        ratio = (iter_num - warmup_iters) / (lr_decay_iters - warmup_iters)
        lr = min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr

    if iter_num > 0 and iter_num % eval_interval == 0:
        model.eval()
        losses = {}
        with torch.no_grad():
            for split, split_data in (("train", train_data), ("val", val_data)):
                eg = torch.Generator().manual_seed(iter_num)
                starts = torch.randint(len(split_data) - block_size - 1, (eval_batches * batch_size,), generator=eg)
                ex = torch.stack([split_data[i:i + block_size] for i in starts.tolist()])
                ey = torch.stack([split_data[i + 1:i + 1 + block_size] for i in starts.tolist()])
                eh = model.h(model.wte(ex) + model.wpe(positions), mask=causal, is_causal=True)
                elogits = model.ln_f(eh) @ model.wte.weight.T
                losses[split] = F.cross_entropy(elogits.flatten(0, 1), ey.flatten()).item()
        model.train()
        print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}, lr {lr:.2e}", flush=True)

    if iter_num == lr_decay_iters:
        release = {"model": model.state_dict(), "config": config, "iter_num": iter_num}
        torch.save(release, os.path.join(out_dir, "release", f"model_{iter_num}.pt"))
        print(f"exported release weights at iter {iter_num}", flush=True)

    bg = torch.Generator().manual_seed(iter_num)
    starts = torch.randint(len(train_data) - block_size - 1, (batch_size,), generator=bg)
    x = torch.stack([train_data[i:i + block_size] for i in starts.tolist()])
    y = torch.stack([train_data[i + 1:i + 1 + block_size] for i in starts.tolist()])
    h = model.h(model.wte(x) + model.wpe(positions), mask=causal, is_causal=True)
    logits = model.ln_f(h) @ model.wte.weight.T
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    iter_num += 1
    checkpoints.save_if_due(iter_num)

cb.final(checksum=cb.checksum(model), loss=loss.item())
