"""What a vaccinated framework hook adds: ns per call, and as a share of a Lightning CPU step.

A small Lightning project (a LightningModule with ``training_step``, a Callback with
``on_train_batch_end``, a collator) is vaccinated with the default policy, which selects those
three hooks. Both copies are imported into one process under different names and measured side
by side, interleaved, in the thread's CPU time with the garbage collector off:

* per hook call: a trivial Callback hook called directly (only the barrier's cost is left), and
  ``training_step`` on a fixed batch (the hook as Lightning calls it, without the Trainer; both
  functions applied to the same model object);
* per training step: ``trainer.fit`` of the original and of the vaccinated copy, the same seeds,
  the step time = CPU time / steps.

The share is (hooks per step x added ns per call) / step time; the side-by-side fit ratio is
given too, but on a busy machine it scatters by more than the effect.

    python -m bench.frameworks [--reps 7] [--calls 200000] [--steps 300]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from .micro import load

PROJECT = '''
import lightning as L
import torch
from torch.utils.data import DataLoader


class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class Count(L.Callback):
    def __init__(self):
        self.calls = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.calls += 1


def collate(items):
    xs, ys = zip(*items)
    return torch.stack(xs), torch.stack(ys)


def loader(samples):
    g = torch.Generator().manual_seed(0)
    pairs = list(zip(torch.randn(samples, 32, generator=g), torch.randn(samples, 1, generator=g)))
    return DataLoader(pairs, batch_size=16, collate_fn=collate)


def fit(steps):
    torch.manual_seed(0)
    model, count = Model(), Count()
    trainer = L.Trainer(max_steps=steps, accelerator="cpu", callbacks=[count], enable_progress_bar=False,
                        enable_model_summary=False, logger=False, enable_checkpointing=False)
    trainer.fit(model, loader(steps * 16))
    return float(sum(p.detach().sum() for p in model.parameters()))
'''

HOOKS_PER_STEP = 3  # training_step, on_train_batch_end, collate


def _timed(function, *args) -> int:  # type: ignore[no-untyped-def]
    gc.disable()
    try:
        start = time.thread_time_ns()
        function(*args)
        return time.thread_time_ns() - start
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)

    import torch

    from daifu_cli.options import merge
    from daifu_cli.project import Request, vaccinate_project

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="daifu-bench-fw-"))
    src, out = work / "src", work / "vax"
    src.mkdir()
    (src / "fwbench.py").write_text(textwrap.dedent(PROJECT))
    outcome = vaccinate_project(Request(src, out, merge(src)))
    vaccinated = sorted(outcome.summaries["fwbench.py"].vaccinated)
    assert vaccinated == ["Count.on_train_batch_end", "Model.training_step", "collate"], vaccinated
    orig = load(src / "fwbench.py", "fwbench_original")
    vax = load(out / "fwbench.py", "fwbench_vaccinated", shim_root=out)

    def hook_calls(module, n: int) -> None:  # type: ignore[no-untyped-def]
        hook = module.Count().on_train_batch_end
        for i in range(n):
            hook(None, None, None, None, i)

    batch = (torch.randn(16, 32), torch.randn(16, 1))
    # One model object for both functions: two model objects alone differ by some 100 ns per
    # call here (where their tensors lie in memory), more than the barrier costs.
    shared = orig.Model()

    def step_calls(module, n: int) -> None:  # type: ignore[no-untyped-def]
        step = module.Model.training_step
        with torch.no_grad():
            for i in range(n):
                step(shared, batch, i)

    results: dict[str, list[float]] = {"hook_ns": [], "step_hook_ns": [], "fit_orig_us": [], "fit_vax_us": []}
    step_n = max(1000, args.calls // 50)
    for rep in range(args.reps):
        pair = (orig, vax) if rep % 2 == 0 else (vax, orig)
        times = {id(m): _timed(hook_calls, m, args.calls) for m in pair}
        results["hook_ns"].append((times[id(vax)] - times[id(orig)]) / args.calls)
        times = {id(m): _timed(step_calls, m, step_n) for m in pair}
        results["step_hook_ns"].append((times[id(vax)] - times[id(orig)]) / step_n)
    fits = max(3, args.reps // 2)
    for rep in range(fits):
        pair = (orig, vax) if rep % 2 == 0 else (vax, orig)
        checks = {}
        for module in pair:
            start = time.thread_time_ns()
            checks[id(module)] = module.fit(args.steps)
            elapsed = (time.thread_time_ns() - start) / args.steps / 1000
            results["fit_orig_us" if module is orig else "fit_vax_us"].append(elapsed)
        assert checks[id(orig)] == checks[id(vax)], "the vaccinated fit must train the same weights"
    hook_ns = statistics.median(results["hook_ns"])
    step_us = statistics.median(results["fit_orig_us"])
    report = {
        "hook_ns_per_call": {"median": hook_ns, "min": min(results["hook_ns"]), "max": max(results["hook_ns"])},
        "training_step_added_ns_per_call": statistics.median(results["step_hook_ns"]),
        "lightning_step_us": step_us,
        "hooks_per_step": HOOKS_PER_STEP,
        "share_of_step_percent": HOOKS_PER_STEP * hook_ns / (step_us * 1000) * 100,
        "fit_ratio_vax_over_orig": statistics.median(
            v / o for v, o in zip(results["fit_vax_us"], results["fit_orig_us"], strict=False)
        ),
        "raw": results,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "raw"}, indent=2))
    return report


if __name__ == "__main__":
    main()
