# daifu 0.1.0: vaccinated copy of train_loop.py; fixes saved here reach a waiting run
"""Training-loop workload for the steady-state overhead benchmark (original, un-vaccinated).

A small CNN on synthetic images (CPU) or a small GPT on synthetic tokens (GPU), trained with
the usual loop: batches, autocast, forward, loss, backward, clipping, optimizer step, a
learning-rate schedule, periodic evaluation under ``torch.no_grad()`` and logging. Inputs and
seeds are fixed, so the original and the vaccinated copy compute the same losses.

Prints one line ``BENCH {json}`` with the mean step time of the timed steps (after warm-up),
the median and smallest mean step time of blocks of 10 steps, and the same from the main
thread's CPU time (robust to a busy machine: time spent waiting for a core is not counted).
Standard library and torch only: it runs on a bare GPU machine.
"""

from __future__ import annotations
__import__("_daifu_shim").vaccinated_module(__name__)

import argparse
import itertools
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, channels=8, size=16, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.BatchNorm2d(2 * channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * channels * (size // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, classes))

    def forward(self, x):
        return self.head(self.features(x))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class SmallGPT(nn.Module):
    def __init__(self, vocab=4096, block=256, dim=384, layers=6, heads=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(block, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


def make_batches(kind, device, count, batch_size, generator):
    """A fixed list of synthetic (inputs, targets) batches, already on the device."""
    # daifu: crash barrier for make_batches() from train_loop.py:82
    try:
        batches = []
        _daifu_it_L85 = __daifu__.iter(range(count))
        for _ in _daifu_it_L85:
            if kind == "cnn":
                x = torch.randn(batch_size, 3, 16, 16, generator=generator)
                y = torch.randint(0, 10, (batch_size,), generator=generator)
            else:
                x = torch.randint(0, 4096, (batch_size, 256), generator=generator)
                y = torch.roll(x, -1, dims=1)
            batches.append((x.to(device), y.to(device)))
        del _daifu_it_L85
        return batches
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def lr_at(step, base, warmup, total):
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@__daifu__.cells
def evaluate(model, batches, device, amp_dtype):
    # daifu: crash barrier for evaluate() from train_loop.py:108
    inputs: ...
    logits: ...
    targets: ...

    def _daifu_with_L113():
        # daifu cell: body of `with torch.autocast(device.type, dtype=amp_dtype, enabled...` at train_loop.py:113
        nonlocal logits
        try:
            logits = model(inputs)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_with_L111():
        # daifu cell: body of `with torch.no_grad():` at train_loop.py:111
        nonlocal inputs, logits, targets, total
        try:
            _daifu_it_L112 = __daifu__.iter(batches)
            for inputs, targets in _daifu_it_L112:
                _daifu_t = None
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    _daifu_t = _daifu_with_L113()
                if _daifu_t is not None:
                    return __daifu__.propagate(_daifu_t)
                total += F.cross_entropy(logits.flatten(0, -2).float(), targets.flatten())
            del _daifu_it_L112
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        model.eval()
        total = torch.zeros((), device=device)
        _daifu_t = None
        with torch.no_grad():
            _daifu_t = _daifu_with_L111()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        model.train()
        return (total / len(batches)).item()
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


@__daifu__.cells
def train(model, optimizer, batches, device, steps, warmup, amp_dtype, eval_every, log_every, base_lr, block=10):
    """The training loop; returns (wall seconds and main-thread CPU seconds of each block of
    *block* timed steps, last loss, eval losses)."""
    # daifu: crash barrier for train() from train_loop.py:120
    logits: ...
    loss: ...

    def _daifu_with_L136():
        # daifu cell: body of `with torch.autocast(device.type, dtype=amp_dtype, enabled...` at train_loop.py:136
        nonlocal logits, loss
        try:
            logits = model(inputs)
            loss = F.cross_entropy(logits.flatten(0, -2).float(), targets.flatten())
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        model.train()
        evals = []
        marks = []
        cpu_marks = []
        loss_value = float("nan")
        _daifu_it_L128 = __daifu__.iter(range(warmup + steps))
        for step in _daifu_it_L128:
            if step >= warmup and (step - warmup) % block == 0:
                sync(device)
                marks.append(time.perf_counter())
                cpu_marks.append(time.thread_time())
            inputs, targets = batches[step % len(batches)]
            _daifu_it_L134 = __daifu__.iter(optimizer.param_groups)
            for group in _daifu_it_L134:
                group["lr"] = lr_at(step, base_lr, 20, warmup + steps)
            del _daifu_it_L134
            _daifu_t = None
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                _daifu_t = _daifu_with_L136()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if (step + 1) % eval_every == 0:
                evals.append(evaluate(model, batches[:2], device, amp_dtype))
            if (step + 1) % log_every == 0:
                loss_value = loss.item()
        del _daifu_it_L128
        sync(device)
        marks.append(time.perf_counter())
        cpu_marks.append(time.thread_time())
        loss_value = loss.item()
        wall = [b - a for a, b in itertools.pairwise(marks)]
        cpu = [b - a for a, b in itertools.pairwise(cpu_marks)]
        return wall, cpu, loss_value, evals
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def median(values):
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("cnn", "gpt"), default="cnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(args.seed)
    if args.model == "cnn":
        model = SmallCNN().to(device)
        amp_dtype = None
    else:
        model = SmallGPT().to(device)
        amp_dtype = torch.bfloat16 if device.type == "cuda" else None
    batches = make_batches(args.model, device, 16, args.batch_size, generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    blocks, cpu_blocks, loss, evals = train(
        model, optimizer, batches, device, args.steps, args.warmup, amp_dtype,
        eval_every=100, log_every=10, base_lr=1e-3,
    )
    counts = [min(10, args.steps - 10 * i) for i in range(len(blocks))]  # the last block may be short
    ms = sorted(b * 1000 / c for b, c in zip(blocks, counts, strict=True))
    cpu_ms = sorted(b * 1000 / c for b, c in zip(cpu_blocks, counts, strict=True))
    result = {
        "step_ms": sum(blocks) / args.steps * 1000,
        "step_ms_median_block": median(ms),
        "step_ms_min_block": ms[0],
        "cpu_step_ms": sum(cpu_blocks) / args.steps * 1000,
        "cpu_step_ms_median_block": median(cpu_ms),
        "steps": args.steps,
        "loss": loss,
        "evals": evals,
        "threads": torch.get_num_threads(),
    }
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
