"""
Train a tiny character-level GPT on a generated corpus of toy sentences.

Single process, CPU friendly, a few seconds end to end. The layout is the usual one for
research training scripts: settings are module globals, a config file and --key=value
arguments can override them (see configurator.py), and the training loop runs at the top
level of the script.

    $ python train.py
    $ python train.py config/tiny_chars.py --max_iters=20
"""

import math
import os
from contextlib import nullcontext

import torch

from corpus import build_corpus
from model import GPT, GPTConfig

# -----------------------------------------------------------------------------
# default settings; every int/float/bool/str here can be overridden from the command line
# I/O
out_dir = 'out'
eval_interval = 20
log_interval = 5
eval_iters = 8
eval_only = False  # stop after the first evaluation
always_save_checkpoint = False  # save after every eval, not only when val loss improves
save_checkpoint = True
init_from = 'scratch'  # 'scratch' or 'resume' (from out_dir/ckpt.pt)
# data
num_sentences = 600
gradient_accumulation_steps = 2  # simulate a larger batch
batch_size = 8  # micro-batch size
block_size = 32
# model
n_layer = 2
n_head = 2
n_embd = 32
dropout = 0.0  # no dropout while pretraining
bias = False
# AdamW
learning_rate = 3e-3  # peak learning rate
max_iters = 60  # number of optimizer steps
weight_decay = 1e-1
beta1 = 0.9
beta2 = 0.99  # a bit lower than the usual 0.999: few tokens per step
grad_clip = 1.0  # 0.0 turns clipping off
# learning rate schedule: linear warmup, then cosine decay to min_lr
decay_lr = True
warmup_iters = 10
lr_decay_iters = 60  # about max_iters
min_lr = 3e-4  # about learning_rate / 10
# system
device = 'cpu'
dtype = 'float32'  # 'float32' or 'bfloat16'
seed = 1337
# sampling at the end
sample_tokens = 80
temperature = 0.8
top_k = 8
# -----------------------------------------------------------------------------
config_keys = [k for k,v in globals().items() if not k.startswith('_') and isinstance(v, (int, float, bool, str))]
exec(open('configurator.py').read())  # command line and config file overrides
config = {k: globals()[k] for k in config_keys}  # what we actually run with, for the checkpoint
# -----------------------------------------------------------------------------

tokens_per_iter = gradient_accumulation_steps * batch_size * block_size
print(f"tokens per iteration: {tokens_per_iter:,}")
if save_checkpoint:
    os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(seed)
device_type = 'cuda' if 'cuda' in device else 'cpu'
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16}[dtype]
# mixed precision only when asked for; in float32 the context does nothing
ctx = nullcontext() if dtype == 'float32' else torch.autocast(device_type=device_type, dtype=ptdtype)

# data: generate the corpus, character vocabulary, 90/10 train/val split
text = build_corpus(num_sentences, seed=seed)
chars = sorted(set(text))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
def encode(s):
    return [stoi[c] for c in s]
def decode(ids):
    return ''.join(itos[i] for i in ids)
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
print(f"corpus: {len(text):,} characters, vocab size {vocab_size}")

def get_batch(split):
    source = train_data if split == 'train' else val_data
    ix = torch.randint(len(source) - block_size, (batch_size,))
    x = torch.stack([source[i:i+block_size] for i in ix])
    y = torch.stack([source[i+1:i+1+block_size] for i in ix])  # targets: shifted by one
    return x.to(device), y.to(device)

# bookkeeping, overwritten when resuming
iter_num = 0
best_val_loss = 1e9

model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                  bias=bias, vocab_size=vocab_size, dropout=dropout)
if init_from == 'scratch':
    print("initializing a new model from scratch")
    model = GPT(GPTConfig(**model_args))
elif init_from == 'resume':
    print(f"resuming training from {out_dir}")
    checkpoint = torch.load(os.path.join(out_dir, 'ckpt.pt'), map_location=device)
    # the architecture must match the checkpoint, whatever the command line said
    for k in ['n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'vocab_size']:
        model_args[k] = checkpoint['model_args'][k]
    model = GPT(GPTConfig(**model_args))
    model.load_state_dict(checkpoint['model'])
    iter_num = checkpoint['iter_num']
    best_val_loss = checkpoint['best_val_loss']
else:
    raise ValueError(f"unknown init_from {init_from!r}")
model.to(device)
print(f"number of parameters: {model.num_params():,}")

optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2))
if init_from == 'resume':
    optimizer.load_state_dict(checkpoint['optimizer'])
checkpoint = None  # let the checkpoint go

@torch.no_grad()
def estimate_loss():
    """Mean loss over eval_iters random batches of each split."""
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            with ctx:
                logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean().item()
    model.train()
    return out

def get_lr(it):
    # linear warmup
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # past the decay horizon: hold the floor
    if it > lr_decay_iters:
        return min_lr
    # cosine from learning_rate down to min_lr
    progress = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= progress <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * progress))  # 1 -> 0
    return min_lr + coeff * (learning_rate - min_lr)

# training loop
X, Y = get_batch('train')  # first batch
local_iter_num = 0  # iterations in this process (iter_num counts from the checkpoint)
while True:

    # learning rate for this step
    lr = get_lr(iter_num) if decay_lr else learning_rate
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr

    # evaluate now and then, and checkpoint on improvement
    if iter_num % eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.6f}, val loss {losses['val']:.6f}")
        if losses['val'] < best_val_loss or always_save_checkpoint:
            best_val_loss = losses['val']
            if iter_num > 0 and save_checkpoint:
                checkpoint = {
                    'model': model.state_dict(),
                    'optimizer': optimizer.state_dict(),
                    'model_args': model_args,
                    'iter_num': iter_num,
                    'best_val_loss': best_val_loss,
                    'config': config,
                }
                print(f"saving checkpoint to {out_dir}")
                torch.save(checkpoint, os.path.join(out_dir, 'ckpt.pt'))
    if iter_num == 0 and eval_only:
        break

    # forward and backward, accumulating gradients over micro-batches
    for micro_step in range(gradient_accumulation_steps):
        with ctx:
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps  # the gradients add up across micro-steps
        # fetch the next batch before the backward pass
        X, Y = get_batch('train')
        loss.backward()
    # clip, step, and drop the gradients
    if grad_clip != 0.0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)

    if iter_num % log_interval == 0:
        # undo the division above to report the loss of the whole batch (last micro-step)
        lossf = loss.item() * gradient_accumulation_steps
        print(f"iter {iter_num}: loss {lossf:.6f}, lr {lr:.6e}")
    iter_num += 1
    local_iter_num += 1

    # termination
    if iter_num > max_iters:
        break

# a short sample, to eyeball what the model learned
model.eval()
start = torch.tensor([encode("the ")], dtype=torch.long, device=device)
sample = model.generate(start, sample_tokens, temperature=temperature, top_k=top_k)
print("sample:", repr(decode(sample[0].tolist())))
checksum = sum(p.detach().double().sum().item() for p in model.parameters())
print(f"weights checksum {checksum:.10f}")
