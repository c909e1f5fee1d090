"""Import cost: the start-up time the runtime shim adds.

Interleaved fresh interpreters (each round runs every variant once, in a rotating order):

* ``python -c "pass"`` and ``python -c "import _daifu_shim"``, both from a vaccinated output
  folder: what importing the shim costs;
* ``python -c "import tiny"`` from the original project and from its vaccinated output: what a
  vaccinated module costs at import (the shim, plus registering the module: reading its
  source and importing the registry).

Figures: the median over rounds of the per-round difference, with min and max, of the wall
time and of the child's CPU time (user + system, from getrusage: robust on a busy machine). Bytecode caches
are warm (each variant runs once before timing). ``-X importtime`` gives the shim's own
cumulative import time and its largest parts.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import vax
from .common import env_for_child, log, summary

TINY = '''"""A tiny module with one loop function (vaccinated by the default policy)."""


def total(values):
    s = 0
    for value in values:
        s += value
    return s
'''


def _prepare(work: Path) -> tuple[Path, Path]:
    src, out = work / "tiny_src", work / "tiny_vax"
    for folder in (src, out):
        if folder.exists():
            shutil.rmtree(folder)
    src.mkdir(parents=True)
    (src / "tiny.py").write_text(TINY)
    if vax.have_daifu():
        vax.vaccinate(src, out)
    else:
        raise RuntimeError("needs daifu")
    return src, out


def _once(code: str, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one fresh interpreter running *code*."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed * 1000, cpu * 1000


def _importtime(code: str, target: str, cwd: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median cumulative -X importtime of module *target*, and the largest parts of its subtree."""
    cumulative: list[float] = []
    parts: dict[str, list[float]] = {}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=cwd, env=env,
                              capture_output=True, text=True)
        # lines: "import time:  self [us] |  cumulative | imported package", in completion order
        rows = []
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if m:
                rows.append((int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)))
        found = [r for r in rows if r[3] == target]
        if found:
            cumulative.append(found[-1][1] / 1000)
        # rows are printed as imports complete, children (deeper indented) before their parent
        end = max((i for i, r in enumerate(rows) if r[3] == target), default=-1)
        if end < 0:
            continue
        start = end
        while start > 0 and rows[start - 1][2] > rows[end][2]:
            start -= 1
        for self_us, _, _, name in rows[start : end + 1]:
            parts.setdefault(name, []).append(self_us / 1000)
    top = sorted(((summary(v, 3)["median"], k) for k, v in parts.items()), reverse=True)[:12]
    return {
        "cumulative_ms": summary(cumulative, 3),
        "largest_self_ms": [{"module": k, "self_ms": v} for v, k in top],
    }


def run(work: Path, rounds: int) -> dict[str, Any]:
    src, out = _prepare(work)
    env = env_for_child()
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    variants = {
        "pass": ("pass", out),
        "shim": (f"import {vax.SHIM}", out),
        "orig_module": ("import tiny", src),
        "vax_module": ("import tiny", out),
    }
    for code, cwd in variants.values():  # warm bytecode caches and the OS
        _once(code, cwd, env)
        _once(code, cwd, env)
    times: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    for rnd in range(rounds):
        shift = rnd % len(names)
        for name in names[shift:] + names[:shift]:
            code, cwd = variants[name]
            wall_ms, cpu_ms = _once(code, cwd, env)
            times[name].append(wall_ms)
            cpu[name].append(cpu_ms)

    def diff(data: dict[str, list[float]], a: str, b: str) -> dict[str, Any]:
        return summary([x - y for x, y in zip(data[a], data[b], strict=True)], 3)

    shim = diff(times, "shim", "pass")
    log(f"  import: shim adds {shim['median']} ms wall, {diff(cpu, 'shim', 'pass')['median']} ms CPU "
        f"(median of {rounds}); a vaccinated module adds {diff(times, 'vax_module', 'orig_module')['median']} ms wall, "
        f"{diff(cpu, 'vax_module', 'orig_module')['median']} ms CPU")
    return {
        "method": __doc__.strip().split("\n\n", 1)[1].replace("\n", " "),
        "rounds": rounds,
        "wall_ms": {k: summary(v, 3) for k, v in times.items()},
        "cpu_ms": {k: summary(v, 3) for k, v in cpu.items()},
        "shim_added_ms": shim,
        "shim_added_cpu_ms": diff(cpu, "shim", "pass"),
        "vaccinated_module_added_ms": diff(times, "vax_module", "orig_module"),
        "vaccinated_module_added_cpu_ms": diff(cpu, "vax_module", "orig_module"),
        "importtime_shim": _importtime(f"import {vax.SHIM}", vax.SHIM, out, env, 7),
        "importtime_vaccinated_module": _importtime("import tiny", "tiny", out, env, 7),
        "importtime_original_module": _importtime("import tiny", "tiny", src, env, 7),
        "target": "shim adds <= 20 ms (median)",
        "meets_target": {"wall": shim["median"] <= 20, "cpu": diff(cpu, "shim", "pass")["median"] <= 20},
    }
