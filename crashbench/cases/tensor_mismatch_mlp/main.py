"""MLP regression: 8 input features -> 3 targets (a smooth nonlinear function plus noise).
Inputs and targets are standardized with statistics from a calibration sample; the model
trains on standardized targets with AdamW and a cosine learning-rate schedule. Every 150
steps the validation MAE is reported in the targets' original units.

Bug (tensor mismatch): the validation de-standardizes the predictions with the *input*
statistics (8 features) instead of the target statistics (3 targets), so the first validation
(after step 149 of 450) fails to broadcast (3 vs 8) with a RuntimeError.
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 450
BATCH = 128
VAL_EVERY = 150
IN, OUT = 8, 3
torch.manual_seed(0)
MIX = torch.randn(IN, OUT, generator=torch.Generator().manual_seed(3))


def data(seed, n):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN, generator=g) * torch.linspace(0.5, 3.0, IN) + torch.arange(IN).float()
    y = torch.sin(x) @ MIX + 0.1 * (x[:, :OUT] ** 2) + 0.05 * torch.randn(n, OUT, generator=g)
    return x, y * torch.tensor([1.0, 10.0, 100.0])


def fit_stats():
    x, y = data(seed=-100, n=4096)
    return {"x_mean": x.mean(0), "x_std": x.std(0), "y_mean": y.mean(0), "y_std": y.std(0)}


def validate(model, stats):
    x, y = data(seed=-1, n=1024)
    with torch.no_grad():
        pred = model((x - stats["x_mean"]) / stats["x_std"])
    pred = pred * stats["x_std"] + stats["y_mean"]
    return (pred - y).abs().mean(0)


def main():
    stats = fit_stats()
    model = nn.Sequential(nn.Linear(IN, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, OUT))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer, scheduler=scheduler)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        x, y = data(seed=step, n=BATCH)
        pred = model((x - stats["x_mean"]) / stats["x_std"])
        loss = F.mse_loss(pred, (y - stats["y_mean"]) / stats["y_std"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % VAL_EVERY == 0:
            mae = validate(model, stats)
            print(f"step {step + 1} loss {loss.item():.4f} val MAE {[round(v, 3) for v in mae.tolist()]}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item(), val_mae=validate(model, stats).sum().item())


if __name__ == "__main__":
    main()
