"""Convolutional denoising autoencoder trained with bfloat16 autocast, on the GPU.

Synthetic 64x64 RGB images of soft coloured blobs; the model learns to remove Gaussian noise.
The batch size is chosen from a probe at start so that a step fills about 70% of the free GPU
memory with mixed precision (bfloat16 activations), on any GPU.

Bug (device OOM): the run configuration says ``precision = "bfloat16"``, but train_step() only
recognises "bf16" and "16-mixed", so autocast is silently off. In float32 the activations take
about twice the memory, and the very first step (step 0 of 120) runs out of GPU memory
(torch.OutOfMemoryError).
"""

import copy
import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

CONFIG = {"precision": "bfloat16", "lr": 2e-3, "steps": 120, "image": 64, "noise": 0.3}
DEVICE = "cuda"
torch.manual_seed(0)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
torch.use_deterministic_algorithms(True, warn_only=True)


def make_batch(step, size):
    side = CONFIG["image"]
    g = torch.Generator(device=DEVICE).manual_seed(step)
    centers = torch.rand(size, 3, 2, 1, 1, device=DEVICE, generator=g) * side
    widths = (0.05 + 0.15 * torch.rand(size, 3, 1, 1, device=DEVICE, generator=g)) * side
    colours = torch.rand(size, 3, 3, device=DEVICE, generator=g)
    r = torch.arange(side, device=DEVICE, dtype=torch.float32)
    blobs = torch.exp(-((r[:, None] - centers[:, :, 0]) ** 2 + (r[None, :] - centers[:, :, 1]) ** 2) / (2 * widths**2))
    clean = torch.einsum("nbhw,nbc->nchw", blobs, colours).clamp(max=1.0)
    noisy = clean + CONFIG["noise"] * torch.randn(clean.shape, device=DEVICE, generator=g)
    return noisy, clean


class DenoisingAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 3, 3, padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def train_step(model, noisy, clean, amp=None):
    if amp is None:
        amp = CONFIG["precision"] in ("bf16", "16-mixed")
    model.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
        loss = F.mse_loss(model(noisy), clean)
    loss.backward()
    return loss.detach()


def batch_size(model):
    """A batch that fills ~70% of the free memory in bfloat16 (and over 110% in float32)."""
    probe = copy.deepcopy(model)

    def peak(n, amp):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        noisy, clean = make_batch(-1, n)
        train_step(probe, noisy, clean, amp)
        del noisy, clean
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base

    peak(64, True), peak(64, False)  # warm-up: cuDNN handles and workspaces; gradients exist
    half = (peak(1024, True) - peak(512, True)) / 512
    full = (peak(1024, False) - peak(512, False)) / 512
    del probe
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info()
    size = int(0.7 * free / half) // 64 * 64
    print(f"batch {size}: {size * half / 2**30:.1f} GiB in bfloat16, {size * full / 2**30:.1f} GiB in float32, "
          f"{free / 2**30:.1f} GiB free", flush=True)
    if size * full < 1.1 * free:
        raise SystemExit("float32 would fit on this GPU: the case cannot be staged")
    return size


def train():
    model = DenoisingAutoencoder().to(DEVICE)
    batch = batch_size(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["lr"])
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, CONFIG["steps"]):
        cb.step(step)
        noisy, clean = make_batch(step, batch)
        loss = train_step(model, noisy, clean)
        optimizer.step()
        if (step + 1) % 25 == 0:
            print(f"step {step + 1} loss {loss.item():.5f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    train()
