"""Steady-state cost of daifu's signal handlers, in executed instructions, with an A/A pair.

The shim installs Python-level handlers for SIGUSR1, SIGTERM and SIGINT at start-up
(:mod:`daifu_cli.runtime.safepoint`); ``DAIFU_SIGNALS=0`` leaves the signals alone. While no
signal comes, a handler should cost nothing per step: CPython only looks at its table of
handlers when a signal has arrived. This part measures that claim on the vaccinated CPU
training loop, counting instructions under valgrind as :mod:`bench.instructions` does (whose
docstring explains why: wall clocks on a shared 2-core machine scatter by percents).

Four runs of the *same vaccinated copy* per layout, from ``layouts`` folders of different name
lengths, all side by side:

* **A/B**: handlers installed (``DAIFU_SIGNALS=1``, the default) against not installed
  (``DAIFU_SIGNALS=0``), in the same folder: the values have the same length, so the
  environment's layout is the same and only the handlers differ;
* **A/A**: handlers installed, run again exactly as it was (same folder, same environment):
  how repeatable one count is. Usually to a few parts per million, but in the first run of
  this bench one rerun differed by 0.34% per step (cause not found: something that varies
  from run to run, a time or a pid written as text, may move allocations too);
* **layout A/A**: handlers installed from a sibling folder whose name is one character longer:
  an irrelevant change that moves the heap's layout (the instruction bench found that a
  folder name alone moves the per-step count by up to ~1%), the noise any comparison of two
  builds faces. Installing the handlers is such a change too (a few objects allocated at
  start-up), so this is the A/A the A/B is held to (:func:`verdict`).

Each program runs for *short* and *long* timed steps after the same warm-up; per step =
(count(long) - count(short)) / (long - short), so start-up (where the handlers are installed)
cancels. Each pair's figure is the ratio of the means over the layouts, with two standard
errors of the paired per-layout differences. Before counting, each side's handler for SIGUSR1
is read back in a child process, so the comparison is known to be between what it claims.

    python -m bench.signal_handlers [--short 5 --long 15 --warmup 5 --layouts 4]
    python -m bench --only signals
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import instructions, vax
from .common import env_for_child, log, summary

TRAIN = instructions.TRAIN

#: program -> (folder suffix, DAIFU_SIGNALS); the layout A/A side runs from a folder one character longer.
PROGRAMS = {
    "handlers": ("", "1"),
    "no_handlers": ("", "0"),
    "handlers_again": ("", "1"),
    "handlers_longer_folder": ("q", "1"),
}


def _folders(out: Path, layouts: int) -> dict[tuple[int, str], Path]:
    """Copies of the vaccinated loop: per layout, a folder and its one-character-longer sibling."""
    made: dict[tuple[int, str], Path] = {}
    for index in range(layouts):
        for suffix in {s for s, _ in PROGRAMS.values()}:
            target = out.parent / f"signals{index}_{'p' * (11 * index)}{suffix}"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(out, target)
            made[(index, suffix)] = target / TRAIN
    return made


_HANDLER_PROBE = """
import os, runpy, signal, sys
target = sys.argv[1]
sys.path.insert(0, os.path.dirname(target))
sys.argv = [target, "--model", "cnn", "--device", "cpu", "--steps", "1", "--warmup", "0", "--threads", "1"]
runpy.run_path(target, run_name="__main__")
handler = signal.getsignal(signal.SIGUSR1)
print("HANDLER " + (getattr(handler, "__qualname__", None) or getattr(handler, "name", None) or str(handler)))
"""


def installed_handler(script: Path, setting: str) -> str:
    """What SIGUSR1 is handled by after the vaccinated loop ran with ``DAIFU_SIGNALS=setting``."""
    done = subprocess.run([sys.executable, "-c", _HANDLER_PROBE, str(script)], capture_output=True, text=True,
                          env=env_for_child({"DAIFU_SIGNALS": setting}), timeout=600, check=True)
    return next(x for x in done.stdout.splitlines() if x.startswith("HANDLER "))[8:]


def _count(script: Path, steps: int, warmup: int, setting: str) -> int:
    return instructions.count(script, steps, warmup, {"DAIFU_SIGNALS": setting})


def _paired(numerator: list[float], denominator: list[float]) -> dict[str, Any]:
    """Ratio of the means, and two standard errors of the mean paired difference (relative)."""
    mean_d = statistics.fmean(denominator)
    ratio = statistics.fmean(numerator) / mean_d
    diffs = [n - d for n, d in zip(numerator, denominator, strict=True)]
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 / mean_d if len(diffs) > 1 else 0.0
    return {
        "ratio_of_means": round(ratio, 7),
        "two_standard_errors": round(2 * se, 7),
        "ratio_per_layout": [round(n / d, 7) for n, d in zip(numerator, denominator, strict=True)],
        "added_instructions_per_step": round(statistics.fmean(diffs), 1),
    }


def measure(out: Path, short: int, long: int, warmup: int, layouts: int) -> dict[str, Any]:
    started = time.perf_counter()
    scripts = _folders(out, layouts)
    handlers = {name: installed_handler(scripts[(0, suffix)], setting) for name, (suffix, setting) in PROGRAMS.items()}
    log(f"  signals: SIGUSR1's handler per program: {handlers}")
    jobs = [(index, name, steps) for index in range(layouts) for name in PROGRAMS for steps in (short, long)]

    def run(job: tuple[int, str, int]) -> int:
        index, name, steps = job
        suffix, setting = PROGRAMS[name]
        return _count(scripts[(index, suffix)], steps, warmup, setting)

    # A count does not depend on the machine's load, so the runs may share the cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = list(pool.map(run, jobs))
    raw: dict[str, dict[str, int]] = {}
    for (index, name, steps), total in zip(jobs, counted, strict=True):
        raw.setdefault(f"layout{index}", {})[f"{name}_{steps}"] = total
        log(f"  signals: layout {index}, {name}, {steps} steps: {total:,}")

    def per_step(name: str, index: int) -> float:
        counts = raw[f"layout{index}"]
        return (counts[f"{name}_{long}"] - counts[f"{name}_{short}"]) / (long - short)

    per = {name: [per_step(name, i) for i in range(layouts)] for name in PROGRAMS}
    ab = _paired(per["handlers"], per["no_handlers"])
    aa = _paired(per["handlers_again"], per["handlers"])
    layout_aa = _paired(per["handlers_longer_folder"], per["handlers"])
    return {
        "method": (
            f"valgrind cachegrind (--cache-sim=no) instruction counts of the whole process; the vaccinated CPU "
            f"training loop, 1 thread, {warmup} warm-up steps, then {short} and {long} timed steps; per step = "
            f"(count({long}) - count({short})) / {long - short}; {layouts} folders of different name lengths "
            f"(memory layouts), two runs at a time. A/B: DAIFU_SIGNALS=1 (handlers installed) / DAIFU_SIGNALS=0, "
            f"same folder. A/A: DAIFU_SIGNALS=1 run again as it was / DAIFU_SIGNALS=1. Layout A/A: DAIFU_SIGNALS=1 "
            f"from a folder one character longer / DAIFU_SIGNALS=1; PYTHONHASHSEED=0"
        ),
        "workload": f"bench/workloads/{TRAIN} (vaccinated) --model cnn --threads 1",
        "layouts": layouts,
        "sigusr1_handler": handlers,
        "instructions_per_step": {name: summary(values, 1) for name, values in per.items()},
        "a_b_handlers_over_none": ab,
        "a_a_run_again": aa,
        "layout_a_a_longer_folder": layout_aa,
        "raw_counts": raw,
        "seconds": round(time.perf_counter() - started, 1),
        "loadavg_during": [round(x, 2) for x in os.getloadavg()],
        **verdict(ab, aa, layout_aa),
    }


def _inside(pair: dict[str, Any], noise: dict[str, Any]) -> bool:
    return abs(pair["ratio_of_means"] - 1) <= abs(noise["ratio_of_means"] - 1) + noise["two_standard_errors"]


def verdict(ab: dict[str, Any], aa: dict[str, Any], layout_aa: dict[str, Any]) -> dict[str, Any]:
    """Whether the A/B is inside each A/A's noise. The target is the layout A/A: installing the
    handlers allocates a few objects at start-up, which moves the heap's layout as a longer
    folder name does, so no comparison of a change can be finer than that; the same run again
    shows how repeatable one count is."""
    return {
        "target": "A/B inside the layout A/A noise: |A/B ratio - 1| <= |layout A/A ratio - 1| + its 2 standard "
                  "errors",
        "inside_rerun_a_a": _inside(ab, aa),
        "ab_interval_holds_1": abs(ab["ratio_of_means"] - 1) <= ab["two_standard_errors"],
        "meets_target": _inside(ab, layout_aa),
    }


def run(work: Path, short: int, long: int, warmup: int, layouts: int) -> dict[str, Any]:
    if instructions.valgrind() is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    _, out = vax.workload_pair(TRAIN, work)
    return measure(out, short, long, warmup, layouts)


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
    raise SystemExit(main())
