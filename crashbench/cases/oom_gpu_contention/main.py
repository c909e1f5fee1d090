"""Small vision transformer on a shared GPU; another job grabs the memory it gives back.

Synthetic 32x32 images of stripes at one of four orientations (the class), with random
frequency, phase and noise. Every 50 steps the model is evaluated, and the program returns the
evaluation's cached memory to the GPU (``torch.cuda.empty_cache()``) so that the other jobs on
the GPU can use it.

Fault (device OOM, transient): after the first evaluation another job on the GPU takes all but
half of the memory a training step needs, for a few seconds (CB_CONTENTION_SECONDS, default 3);
the next step (step 50 of 300) runs out of memory. The other job is simulated by a thread of this
process that allocates the memory and frees it when its time is up; it starts only if the marker
file ``.fault_fired`` next to this program does not exist (it creates it), so a retry after the
other job is done, or a restart, succeeds.
"""

import copy
import math
import os
import threading
import time

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
BATCH = 512
EVAL_EVERY = 50
CLASSES = 4
DEVICE = "cuda"
HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = os.path.join(HERE, ".fault_fired")
CONTENTION_SECONDS = float(os.environ.get("CB_CONTENTION_SECONDS", "3"))
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(True, warn_only=True)


def make_batch(seed, size=BATCH):
    g = torch.Generator(device=DEVICE).manual_seed(seed)
    y = torch.randint(0, CLASSES, (size,), device=DEVICE, generator=g)
    angle = y.float() * (math.pi / CLASSES) + 0.1 * torch.randn(size, device=DEVICE, generator=g)
    freq = 0.4 + 0.6 * torch.rand(size, device=DEVICE, generator=g)
    phase = 6.283 * torch.rand(size, device=DEVICE, generator=g)
    r = torch.arange(32, device=DEVICE, dtype=torch.float32)
    proj = torch.cos(angle)[:, None, None] * r[None, :, None] + torch.sin(angle)[:, None, None] * r[None, None, :]
    x = torch.sin(freq[:, None, None] * proj + phase[:, None, None])
    x = x + 1.5 * torch.randn(size, 32, 32, device=DEVICE, generator=g)
    return x.unsqueeze(1), y


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(c // self.heads), dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, dim=128, depth=4, heads=4, patch=4):
        super().__init__()
        self.patchify = nn.Conv2d(1, dim, patch, stride=patch)
        self.position = nn.Parameter(0.02 * torch.randn(1, (32 // patch) ** 2, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, x):
        tokens = self.patchify(x).flatten(2).transpose(1, 2) + self.position
        return self.head(self.norm(self.blocks(tokens)).mean(dim=1))


def train_step(model, x, y):
    model.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss.detach()


def evaluate(model):
    with torch.no_grad():
        x, y = make_batch(-1, 2048)
        return (model(x).argmax(1) == y).float().mean().item()


def available_bytes():
    """Memory this process can still get: free on the device plus the allocator's cache."""
    free, _ = torch.cuda.mem_get_info()
    return free + torch.cuda.memory_reserved() - torch.cuda.memory_allocated()


def step_bytes(model):
    """Peak memory of a training step (measured on a copy of the model)."""
    probe = copy.deepcopy(model)
    x, y = make_batch(-2)
    train_step(probe, x, y)  # warm-up: cuBLAS/cuDNN handles and workspaces; gradients exist
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    train_step(probe, x, y)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del probe, x, y
    torch.cuda.empty_cache()
    return peak


def other_job(leave_free, seconds):
    """Simulated co-tenant: holds all but *leave_free* bytes of the GPU for *seconds*."""
    ready = threading.Event()

    def run():
        blocks = []
        need = available_bytes() - leave_free
        while need > 4 * 2**20:
            blocks.append(torch.empty(min(need, 2**30), dtype=torch.uint8, device=DEVICE))
            need = available_bytes() - leave_free
        torch.cuda.synchronize()
        ready.set()
        time.sleep(seconds)
        blocks.clear()

    threading.Thread(target=run, daemon=True).start()
    ready.wait()


def train():
    model = ViT().to(DEVICE)
    needed = step_bytes(model)
    print(f"a training step needs {needed / 2**20:.0f} MiB", flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    accuracy = checkpoints.extra.get("accuracy", 0.0)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = make_batch(step)
        loss = train_step(model, x, y)
        optimizer.step()
        scheduler.step()
        if (step + 1) % EVAL_EVERY == 0:
            accuracy = evaluate(model)
            print(f"step {step + 1} loss {loss.item():.4f} accuracy {accuracy:.3f}", flush=True)
            torch.cuda.empty_cache()  # give the evaluation's memory back to the other jobs
            if not os.path.exists(MARKER):  # the environment: another job takes that memory
                open(MARKER, "w").close()
                other_job(leave_free=needed // 2, seconds=CONTENTION_SECONDS)
        checkpoints.extra["accuracy"] = accuracy
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), accuracy=accuracy)


if __name__ == "__main__":
    train()
