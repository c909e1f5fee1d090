"""The training loop, original and vaccinated, in one process: alternating ``train()`` calls.

A complement to the paired processes of :mod:`bench.overhead`: both copies of
``workloads/train_loop.py`` are imported side by side, each gets its own model, optimizer and
batches built from the same seed, and their ``train()`` functions are called in turn (A B, B A,
...), *steps* steps each. Per repetition: the ratio of wall time and of main-thread CPU time;
and min-of-N. Standard library and torch only.

    python -m bench.train_inproc ORIGINAL_FOLDER VACCINATED_FOLDER [--reps N] [--steps N] [--model cnn|gpt] [--device D]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import summary
from .micro import load

TRAIN = "train_loop.py"


def run(original: Path, vaccinated: Path, reps: int, steps: int, model_kind: str, device_name: str,
        threads: int, batch_size: int) -> dict[str, Any]:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    device = torch.device(device_name)
    mods = {"o": load(original / TRAIN, "bench_train_original"),
            "v": load(vaccinated / TRAIN, "bench_train_vaccinated", shim_root=vaccinated)}
    state = {}
    for key, mod in mods.items():
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)
        model = (mod.SmallCNN() if model_kind == "cnn" else mod.SmallGPT()).to(device)
        batches = mod.make_batches(model_kind, device, 16, batch_size, generator)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        amp = torch.bfloat16 if (model_kind == "gpt" and device.type == "cuda") else None
        state[key] = (mod, model, optimizer, batches, amp)

    def call(key: str, n: int) -> tuple[float, float, float]:
        mod, model, optimizer, batches, amp = state[key]
        wall, cpu, loss, _ = mod.train(model, optimizer, batches, device, n, 0, amp, 100, 10, 1e-3)
        return sum(wall) * 1000 / n, sum(cpu) * 1000 / n, loss

    call("o", 10)
    call("v", 10)
    times: dict[str, list[tuple[float, float, float]]] = {"o": [], "v": []}
    for rep in range(reps):
        for key in (("o", "v") if rep % 2 == 0 else ("v", "o")):
            times[key].append(call(key, steps))
    out: dict[str, Any] = {"reps": reps, "steps_per_call": steps,
                           "same_losses": [t[2] for t in times["o"]] == [t[2] for t in times["v"]]}
    for index, name in ((0, "wall"), (1, "cpu")):
        a = [t[index] for t in times["o"]]
        b = [t[index] for t in times["v"]]
        out[name] = {
            "original_step_ms": summary(a, 4),
            "vaccinated_step_ms": summary(b, 4),
            "ratio": summary([y / x for x, y in zip(a, b, strict=True)], 5),
            "ratio_min_of_n": round(min(b) / min(a), 5),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("original", type=Path)
    parser.add_argument("vaccinated", type=Path)
    parser.add_argument("--reps", type=int, default=12)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    result = run(args.original, args.vaccinated, args.reps, args.steps, args.model, args.device,
                 args.threads, args.batch_size)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
