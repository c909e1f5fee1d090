"""In-process micro benchmark: each case of ``workloads/micro.py``, original against vaccinated.

Both copies are imported into one process under different module names; for each repetition
the two are timed back to back (the order alternating), with the garbage collector off during
a timed call. The headline figures use the thread's CPU time (what daifu adds is CPU work in
that thread; CPU time leaves out waiting for a core on a busy machine); wall-clock figures are
recorded too. Reported per case: the ratio vaccinated/original (median, min, max over the
repetitions, and min-of-N: the fastest vaccinated run over the fastest original run) and the
added cost in nanoseconds per iteration, and per cell where the case runs cells.

    python -m bench.micro ORIGINAL_FOLDER VACCINATED_FOLDER [--reps N] [--target-ms MS]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .common import summary

MODULE = "micro.py"
#: Selected besides the default policy when vaccinating the micro workload.
SELECT = ["micro.py::inc_selected"]  # also in vax.WORKLOAD_SELECT


def load(path: Path, name: str, shim_root: Path | None = None) -> ModuleType:
    """Import the file *path* as module *name* (with *shim_root* on ``sys.path`` for the shim)."""
    if shim_root is not None and str(shim_root) not in sys.path:
        sys.path.insert(0, str(shim_root))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_pair(original: Path, vaccinated: Path) -> tuple[ModuleType, ModuleType]:
    orig = load(original / MODULE, "bench_micro_original")
    vax = load(vaccinated / MODULE, "bench_micro_vaccinated", shim_root=vaccinated)
    return orig, vax


def time_call(fn: Callable[[int], Any], n: int) -> tuple[int, int]:
    """(thread CPU ns, wall ns) for ``fn(n)``, collector off.

    The thread's CPU time leaves out the time the thread waited for a core, so on a shared,
    oversubscribed machine it is the figure to trust; the wall time is kept alongside.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        wall = time.perf_counter_ns()
        cpu = time.thread_time_ns()
        fn(n)
        cpu = time.thread_time_ns() - cpu
        wall = time.perf_counter_ns() - wall
        return cpu, wall
    finally:
        if enabled:
            gc.enable()


def calibrate(fn: Callable[[int], Any], target_s: float) -> int:
    """An iteration count for which ``fn`` takes about *target_s* of CPU time."""
    n = 16
    while True:
        elapsed = min(time_call(fn, n)[0] for _ in range(2)) / 1e9
        if elapsed >= target_s / 4 or n >= 1 << 30:
            return max(16, int(n * target_s / max(elapsed, 1e-9)))
        n *= 4


def interleaved(orig: Callable[[int], Any], vax: Callable[[int], Any], n: int, reps: int
                ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(CPU ns, wall ns) of *reps* calls of each, interleaved A B B A A B ..."""
    time_call(orig, n)
    time_call(vax, n)
    a: list[tuple[int, int]] = []
    b: list[tuple[int, int]] = []
    for rep in range(reps):
        if rep % 2 == 0:
            a.append(time_call(orig, n))
            b.append(time_call(vax, n))
        else:
            b.append(time_call(vax, n))
            a.append(time_call(orig, n))
    return a, b


def min_ratio(orig: Callable[[int], Any], vax: Callable[[int], Any], n: int, reps: int) -> float:
    """min-of-N vaccinated CPU time over min-of-N original CPU time (robust on a noisy machine)."""
    a, b = interleaved(orig, vax, n, reps)
    return min(x[0] for x in b) / min(x[0] for x in a)


def _figures(a: list[int], b: list[int], n: int, cells: int) -> dict[str, Any]:
    ratios = [y / x for x, y in zip(a, b, strict=True)]
    added = [(y - x) / n for x, y in zip(a, b, strict=True)]
    out: dict[str, Any] = {
        "original_ns_per_iter": summary([x / n for x in a], 2),
        "vaccinated_ns_per_iter": summary([y / n for y in b], 2),
        "ratio": summary(ratios, 4),
        "ratio_min_of_n": round(min(b) / min(a), 4),
        "added_ns_per_iter": summary(added, 2),
        "added_ns_per_iter_min_of_n": round((min(b) - min(a)) / n, 2),
    }
    if cells:
        out["added_ns_per_cell"] = summary([x / cells for x in added], 2)
        out["added_ns_per_cell_min_of_n"] = round((min(b) - min(a)) / n / cells, 2)
    return out


def measure_case(name: str, orig: ModuleType, vax: ModuleType, cells: int, reps: int, target_s: float) -> dict[str, Any]:
    fo, fv = getattr(orig, name), getattr(vax, name)
    assert fo(1000) == fv(1000), f"{name}: the vaccinated copy computes something else"
    n = min(calibrate(fo, target_s), calibrate(fv, target_s))  # the slower copy sets the size
    a, b = interleaved(fo, fv, n, reps)
    cpu = _figures([x[0] for x in a], [y[0] for y in b], n, cells)
    wall = _figures([x[1] for x in a], [y[1] for y in b], n, cells)
    return {"iterations": n, "reps": reps, "cells_per_iteration": cells, **cpu, "wall": wall}


def profile_case(name: str, vax: ModuleType, n: int, limit: int = 12) -> list[dict[str, Any]]:
    """Top functions (by own time) of the vaccinated case under cProfile."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    getattr(vax, name)(n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({
            "function": f"{Path(filename).name}:{line}({func})",
            "calls": nc,
            "tottime_s": round(tt, 4),
            "cumtime_s": round(ct, 4),
        })
    rows.sort(key=lambda r: -r["tottime_s"])
    return rows[:limit]


def run(original: Path, vaccinated: Path, reps: int, target_ms: float, profile: bool = True) -> dict[str, Any]:
    orig, vax = load_pair(original, vaccinated)
    cases: dict[str, Any] = {}
    for name, (cells, what) in orig.CASES.items():
        result = measure_case(name, orig, vax, cells, reps, target_ms / 1000)
        result["what"] = what
        cases[name] = result
    out: dict[str, Any] = {"cases": cases, "python": sys.version.split()[0]}
    if profile:
        out["profiles"] = {
            name: profile_case(name, vax, max(1000, cases[name]["iterations"] // 4))
            for name in ("try_finally_in_loop", "exception_in_loop")
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("original", type=Path)
    parser.add_argument("vaccinated", type=Path)
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.original, args.vaccinated, args.reps, args.target_ms, not args.no_profile)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
