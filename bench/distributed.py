"""Steady-state cost of what a torchrun worker adds per step: a vaccinated DDP job under torchrun
(2 gloo ranks, CPU, a DataLoader, a metric all-reduced each step), with the job channel, the
optimizer-step counter and random state file, the loaders' marks, and the copy of an in-place
reduction's tensor on (``DAIFU_JOB=1``, the default) and off (``DAIFU_JOB=0``), runs interleaved.

    python -m bench.distributed [--repeats 5] [--steps 400]

Each run times its own training loop (after 20 warm-up steps, so start-up is not counted):
wall seconds and CPU seconds (all of the process's threads, the watcher's included) per step
of rank 0. Off runs twice per round ("off" and "off again"): their
difference is the A/A noise the on/off difference must be compared with.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PROGRAM = """
import datetime
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
rank = dist.get_rank()
torch.manual_seed(0)
model = DistributedDataParallel(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
STEPS = int(sys.argv[1])
loader = DataLoader(TensorDataset(torch.randn(32 * (STEPS + 20), 64)), batch_size=32)


def train():
    started = cpu = None
    for step, (x,) in enumerate(loader):
        if step == 20:
            started, cpu = time.perf_counter(), time.process_time()
        loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        metric = loss.detach().clone()
        dist.all_reduce(metric)  # a metric each step, as scripts log it
    return (time.perf_counter() - started) / STEPS, (time.process_time() - cpu) / STEPS


wall, cpu = train()
if rank == 0:  # CPU time of all the process's threads: the watcher's polling included
    sys.stdout.write(f"per-step {wall} {cpu}\\n")
dist.destroy_process_group()
"""


def vaccinate(folder: Path) -> Path:
    source = folder / "src"
    source.mkdir()
    (source / "main.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    output = folder / "vax"
    subprocess.run(
        [sys.executable, "-m", "daifu_cli", "vaccinate", str(source), "-o", str(output)],
        check=True,
        capture_output=True,
    )
    return output


class Failed(Exception):
    """A run whose job did not finish."""


def one_run(output: Path, channel: bool, steps: int) -> tuple[float, float]:
    env = {**os.environ, "DAIFU_JOB": "1" if channel else "0", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "main.py",
            str(steps),
        ],
        cwd=output,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        # gloo sometimes aborts a rank at shutdown ("terminate called without an active
        # exception"), with or without daifu: the caller runs it again and counts it.
        raise Failed(f"{'on' if channel else 'off'}: {done.stderr.strip().splitlines()[0][:200]}")
    words = next(x for x in done.stdout.splitlines() if x.startswith("per-step ")).split()
    return float(words[1]), float(words[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"off": [], "off again": [], "on": []}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        output = vaccinate(Path(folder))
        order = list(results)
        for repeat in range(args.repeats):
            for name in order[repeat % 3 :] + order[: repeat % 3]:  # rotate: no config always first
                for _attempt in range(3):
                    try:
                        results[name].append(one_run(output, name == "on", args.steps))
                        break
                    except Failed as failure:
                        failures.append(str(failure))
                        print(f"failed, running it again: {failure}", flush=True)
            print(
                f"round {repeat + 1}: "
                + ", ".join(
                    f"{k} {v[-1][0] * 1e3:.3f} ms ({v[-1][1] * 1e3:.3f} CPU)"
                    for k, v in results.items()
                ),
                flush=True,
            )
    for index, what in ((0, "wall"), (1, "CPU")):
        base = statistics.median(v[index] for v in results["off"])
        for name, runs in results.items():
            values = [v[index] for v in runs]
            median = statistics.median(values)
            print(
                f"{what:4s} {name:10s} median {median * 1e3:.3f} ms/step, range {min(values) * 1e3:.3f}-"
                f"{max(values) * 1e3:.3f}, {median / base - 1:+.2%} against off"
            )

    print(f"failed runs (run again): {len(failures)}" + "".join(f"\n  {f}" for f in failures))


if __name__ == "__main__":
    main()
