"""Steady-state overhead counted in executed instructions, where wall clocks are too noisy.

On a shared 2-core machine, step times of the same program scatter by a few percent between
runs (the A/A control in :mod:`bench.overhead` shows it), which hides a 0.5% target.
Instruction counts do not depend on what else the machine is doing: valgrind (cachegrind,
cache simulation off) counts every instruction the process executes, the CPU's own and the
interpreter's alike, so daifu's barriers, cells and runtime calls are all counted.

Method: the CPU training loop (:mod:`bench.workloads.train_loop`, 1 torch thread), original
and vaccinated, each run for two lengths, *short* and *long* timed steps after the same
warm-up. Start-up, imports and everything
outside the steps cancel in the difference, so

    instructions per step = (count(long) - count(short)) / (long - short)

and the overhead is vaccinated / original of that. Repeating a run gives the same count to a
few parts per million (reported as the spread of repeated pairs). Instructions are not time
(a cache miss costs more than an add), so this is the cost of the work daifu adds, measured
exactly, next to the wall-clock ratios that show it is not hiding a slowdown of another kind.

    python -m bench.instructions [--short 20 --long 60 --warmup 10 --repeats 2]
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


def count(script: Path, steps: int, warmup: int) -> int:
    """Instructions executed by one run of the training loop (cachegrind, no cache model)."""
    tool = valgrind()
    assert tool is not None
    cmd = [
        tool, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, str(script), "--model", "cnn", "--device", "cpu", "--steps", str(steps),
        "--warmup", str(warmup), "--threads", "1",
    ]
    # Fixed hash seed and one thread everywhere: the count is then the same from run to run.
    env = env_for_child({"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, check=False)
    match = _TOTAL.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


SIDES = ("original", "original_again", "control", "vaccinated")


def control_copy(src: Path, out: Path) -> Path:
    """The original program plus only the vaccinated module's first line (the shim import and
    registration), placed beside the shim: it has the vaccinated run's start-up and heap, but
    no barrier or cell runs. Comparing against it separates what the steps cost from where the
    allocator happens to put things (which moves instruction counts by up to 1% either way)."""
    text = (src / TRAIN).read_text(encoding="utf-8")
    line = next(x for x in (out / TRAIN).read_text(encoding="utf-8").splitlines() if "_daifu_shim" in x)
    anchor = "from __future__ import annotations\n"
    assert anchor in text, "the workload starts with a __future__ import"
    target = out / f"control_{TRAIN}"
    target.write_text(text.replace(anchor, anchor + line + "\n", 1), encoding="utf-8")
    return target


def measure(src: Path, out: Path, short: int, long: int, warmup: int, repeats: int) -> dict[str, Any]:
    # The same original file again from a folder with a longer name: only the process's memory
    # layout differs (paths are stored in many objects), so its ratio is the noise floor.
    again = src.parent / ("original_copy_in_a_folder_with_a_longer_name_" + "x" * 40)
    again.mkdir(exist_ok=True)
    shutil.copy2(src / TRAIN, again / TRAIN)
    scripts = {"original": src / TRAIN, "original_again": again / TRAIN, "control": control_copy(src, out),
               "vaccinated": out / TRAIN}
    started = time.perf_counter()
    # A count does not depend on the machine's load, so the runs may share the cores.
    jobs = [(rep, name, steps) for rep in range(repeats) for steps in (short, long) for name in SIDES]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = list(pool.map(lambda job: count(scripts[job[1]], job[2], warmup), jobs))
    raw: list[dict[str, int]] = [{} for _ in range(repeats)]
    for (rep, name, steps), total in zip(jobs, counted, strict=True):
        raw[rep][f"{name}_{steps}"] = total
        log(f"  instructions: repeat {rep + 1}, {name}, {steps} steps: {total:,}")
    per_step = {
        name: [(counts[f"{name}_{long}"] - counts[f"{name}_{short}"]) / (long - short) for counts in raw]
        for name in SIDES
    }

    def compared(a: str, b: str) -> dict[str, Any]:
        ratios = [y / x for x, y in zip(per_step[a], per_step[b], strict=True)]
        return {
            "added_instructions_per_step": summary([y - x for x, y in zip(per_step[a], per_step[b], strict=True)], 1),
            "ratio": summary(ratios, 7),
            "overhead_pct_median": round((statistics.median(ratios) - 1) * 100, 4),
        }

    vaccinated = compared("original", "vaccinated")
    return {
        "method": (
            f"valgrind cachegrind (--cache-sim=no) instruction counts of the whole process; CPU training "
            f"loop, 1 thread, {warmup} warm-up steps, then {short} and {long} timed steps; per step = "
            f"(count({long}) - count({short})) / {long - short}; {repeats} repeat(s) of the eight runs, "
            f"run two at a time (counts do not depend on load), PYTHONHASHSEED=0"
        ),
        "workload": f"bench/workloads/{TRAIN} --model cnn --threads 1",
        "sides": {
            "original": "the workload as written",
            "original_again": "the same file run from another folder: only the memory layout differs (A/A control)",
            "control": "the original plus the vaccinated module's shim import line (start-up and heap of a "
                       "vaccinated run, no barriers or cells)",
            "vaccinated": "daifu vaccinate output",
        },
        "instructions_per_step": {name: summary(values, 1) for name, values in per_step.items()},
        "vaccinated_vs_original": vaccinated,
        "original_again_vs_original": compared("original", "original_again"),
        "vaccinated_vs_control": compared("control", "vaccinated"),
        "control_vs_original": compared("original", "control"),
        "startup_instructions_added": summary(
            [r[f"vaccinated_{short}"] - r[f"original_{short}"] - short * (v - o)
             for r, o, v in zip(raw, per_step["original"], per_step["vaccinated"], strict=True)], 0),
        "raw_counts": raw,
        "seconds": round(time.perf_counter() - started, 1),
        "target": "overhead <= 0.5%",
        "meets_target": vaccinated["ratio"]["max"] <= 1.005,
    }


def run(work: Path, short: int, long: int, warmup: int, repeats: int) -> dict[str, Any]:
    if valgrind() is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    src, out = vax.workload_pair(TRAIN, work)
    return measure(src, out, short, long, warmup, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=int, default=5)
    parser.add_argument("--long", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="daifu-bench-") as tmp:
        result = run(Path(tmp), args.short, args.long, args.warmup, args.repeats)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
