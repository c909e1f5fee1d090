"""Steady-state overhead counted in executed instructions, where wall clocks are too noisy.

On a shared 2-core machine, step times of the same program scatter by a few percent between
runs (the A/A control in :mod:`bench.overhead` shows it), which hides a 0.5% target.
Instruction counts do not depend on what else the machine is doing: valgrind (cachegrind,
cache simulation off) counts every instruction the process executes, the CPU's own and the
interpreter's alike, so daifu's barriers, cells and runtime calls are all counted.

Method: the CPU training loop (:mod:`bench.workloads.train_loop`, 1 torch thread), original
and vaccinated, each run for two lengths, *short* and *long* timed steps after the same
warm-up. Start-up, imports and everything outside the steps cancel in the difference:

    instructions per step = (count(long) - count(short)) / (long - short)

What we found: a run repeated as it is gives the same count to a few parts per million, but
the *same file* run from a folder with another name executes up to ~1% more or fewer
instructions per step. The folder name moves where the allocator places things, and glibc's
malloc (torch allocates every tensor with it) takes longer or shorter paths through its bins;
the vaccinated program, with the runtime's objects on the heap, is such a change too. So one
pair of runs measures the layout, not daifu. The bench therefore runs both programs from
*layouts* folders of different name lengths and compares the means; the spread of the
original's counts across layouts is the noise floor, and the result says "unresolved" when
the difference is inside twice its standard error.

The cells the vaccinated loop enters per step are counted too (``sys.setprofile``): with the
micro benchmark's measured cost per cell this gives daifu's added work per step directly.

    python -m bench.instructions [--short 5 --long 15 --warmup 5 --layouts 4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import vax
from .common import env_for_child, log, summary

TRAIN = "train_loop.py"
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def valgrind() -> str | None:
    return shutil.which("valgrind")


def count(script: Path, steps: int, warmup: int, env: dict[str, str] | None = None) -> int:
    """Instructions executed by one run of the training loop (cachegrind, no cache model);
    *env*: more environment variables for it."""
    tool = valgrind()
    assert tool is not None
    cmd = [
        tool, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, str(script), "--model", "cnn", "--device", "cpu", "--steps", str(steps),
        "--warmup", str(warmup), "--threads", "1",
    ]
    # Fixed hash seed and one thread everywhere: the count is then the same from run to run.
    env = env_for_child({"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})})
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, check=False)
    match = _TOTAL.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


SIDES = ("original", "vaccinated")


def _layout_copies(src: Path, out: Path, layouts: int) -> list[tuple[int, str, Path]]:
    """Copies of the two programs in folders whose names differ in length, one set per layout."""
    copies = []
    for index in range(layouts):
        folder = src.parent / f"layout{index}_{'p' * (11 * index)}"
        for side, origin in (("original", src), ("vaccinated", out)):
            target = folder / side
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(origin, target)
            copies.append((index, side, target / TRAIN))
    return copies


def measure(src: Path, out: Path, short: int, long: int, warmup: int, layouts: int) -> dict[str, Any]:
    started = time.perf_counter()
    copies = _layout_copies(src, out, layouts)
    jobs = [(index, side, script, steps) for index, side, script in copies for steps in (short, long)]
    # A count does not depend on the machine's load, so the runs may share the cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = list(pool.map(lambda job: count(job[2], job[3], warmup), jobs))
    raw: dict[str, dict[str, int]] = {}
    for (index, side, _, steps), total in zip(jobs, counted, strict=True):
        raw.setdefault(f"layout{index}", {})[f"{side}_{steps}"] = total
        log(f"  instructions: layout {index}, {side}, {steps} steps: {total:,}")
    per_step = {
        side: [(raw[f"layout{i}"][f"{side}_{long}"] - raw[f"layout{i}"][f"{side}_{short}"]) / (long - short)
               for i in range(layouts)]
        for side in SIDES
    }
    orig, vacc = per_step["original"], per_step["vaccinated"]
    mean_o, mean_v = statistics.fmean(orig), statistics.fmean(vacc)
    ratio = mean_v / mean_o
    # Standard error of the difference of the two means, relative to the original's mean.
    se = (statistics.variance(orig) / layouts + statistics.variance(vacc) / layouts) ** 0.5 / mean_o if layouts > 1 else 0.0
    if ratio + 2 * se <= 1.005:
        verdict: bool | str = True
    elif ratio - 2 * se > 1.005:
        verdict = False
    else:
        verdict = f"unresolved: ratio {ratio:.4f} +- {2 * se:.2%} (2 standard errors)"
    return {
        "method": (
            f"valgrind cachegrind (--cache-sim=no) instruction counts of the whole process; CPU training "
            f"loop, 1 thread, {warmup} warm-up steps, then {short} and {long} timed steps; per step = "
            f"(count({long}) - count({short})) / {long - short}; both programs run from {layouts} folders of "
            f"different name lengths (memory layouts); runs two at a time (counts do not depend on load); "
            f"PYTHONHASHSEED=0"
        ),
        "workload": f"bench/workloads/{TRAIN} --model cnn --threads 1",
        "layouts": layouts,
        "instructions_per_step": {side: summary(values, 1) for side, values in per_step.items()},
        "ratio_of_means": round(ratio, 6),
        "two_standard_errors": round(2 * se, 6),
        "ratio_per_layout": summary([v / o for o, v in zip(orig, vacc, strict=True)], 5),
        "layout_spread_original_pct": round((max(orig) - min(orig)) / mean_o * 100, 3),
        "layout_spread_vaccinated_pct": round((max(vacc) - min(vacc)) / mean_v * 100, 3),
        "added_instructions_per_step_mean": round(mean_v - mean_o, 1),
        "raw_counts": raw,
        "seconds": round(time.perf_counter() - started, 1),
        "target": "overhead <= 0.5% (ratio of means + 2 standard errors <= 1.005)",
        "meets_target": verdict,
    }


_CELL_COUNTER = """
import collections, json, os, runpy, sys
target, steps = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(target))  # as `python target` would: the shim lies beside it
entered = collections.Counter()

def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_filename == target:
        entered[frame.f_code] += 1

sys.argv = [target, "--model", "cnn", "--device", "cpu", "--steps", steps, "--warmup", "0", "--threads", "1"]
sys.setprofile(profile)
try:
    runpy.run_path(target, run_name="__main__")
finally:
    sys.setprofile(None)
from _daifu_shim import layout  # cells are renamed after their function; the runtime knows them
cells = collections.Counter()
for code, calls in entered.items():
    name = layout.cell_of(code)
    if name:
        cells[name] += calls
print("CELLS " + json.dumps(cells))
"""


def cells_per_step(out: Path, short: int = 10, long: int = 30) -> dict[str, Any]:
    """How many cells the vaccinated loop enters per step (counted with ``sys.setprofile``
    over two run lengths, so set-up cancels): with the micro benchmark's cost per cell, the
    work daifu adds to each step."""
    totals = {}
    for steps in (short, long):
        done = subprocess.run([sys.executable, "-c", _CELL_COUNTER, str(out / TRAIN), str(steps)],
                              capture_output=True, text=True, env=env_for_child(), timeout=600, check=True)
        line = next(x for x in done.stdout.splitlines() if x.startswith("CELLS "))
        totals[steps] = json.loads(line[6:])
    names = set(totals[short]) | set(totals[long])
    per = {n: (totals[long].get(n, 0) - totals[short].get(n, 0)) / (long - short) for n in sorted(names)}
    return {"by_cell": per, "cells_per_step": sum(per.values()), "runs": f"{short} and {long} steps"}


def run(work: Path, short: int, long: int, warmup: int, layouts: int) -> dict[str, Any]:
    if valgrind() is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    src, out = vax.workload_pair(TRAIN, work)
    result = measure(src, out, short, long, warmup, layouts)
    result["cells_entered"] = cells_per_step(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=int, default=5)
    parser.add_argument("--long", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--layouts", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="daifu-bench-") as tmp:
        result = run(Path(tmp), args.short, args.long, args.warmup, args.layouts)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
