"""Shared helpers: paths, machine description, statistics, results files, subprocesses.

Standard library only (the GPU part of the benchmark runs where only torch is installed).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORKLOADS = BENCH / "workloads"
DEFAULT_RESULTS = BENCH / "results"


# -- statistics ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of *values*."""
    data = sorted(values)
    if not data:
        return math.nan
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary(values: list[float], digits: int = 4) -> dict[str, Any]:
    """median, min, max, p95, mean, stdev and n of *values* (rounded)."""
    if not values:
        return {"n": 0}
    out = {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in out.items()}


def fmt_spread(s: dict[str, Any], unit: str = "", digits: int = 3, scale: float = 1.0) -> str:
    """'median (min..max)' for a summary."""
    if not s or not s.get("n"):
        return "n/a"
    f = f"{{:.{digits}f}}"
    return (
        f"{f.format(s['median'] * scale)}{unit} "
        f"({f.format(s['min'] * scale)}..{f.format(s['max'] * scale)}, n={s['n']})"
    )


# -- the machine -----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("torch")
    except Exception:
        return None


def gpu_names() -> list[str]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def machine() -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cores_available": affinity,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "torch": torch_version(),
        "gpus": gpu_names(),
        "loadavg_at_start": load,
    }


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# -- processes -------------------------------------------------------------------------------


def env_for_child(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of measured child processes: repo root importable, no bytecode noise."""
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


def run_json(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 600, prefix: str = "BENCH ") -> dict[str, Any]:
    """Run *cmd*, return the JSON of its last stdout line starting with *prefix*."""
    proc = subprocess.run(cmd, cwd=cwd, env=env or env_for_child(), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(prefix):
            return json.loads(line[len(prefix):])  # type: ignore[no-any-return]
    raise RuntimeError(f"no {prefix!r} line from {' '.join(map(str, cmd))}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- results ---------------------------------------------------------------------------------


def load_results(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_results(folder: Path, data: dict[str, Any], markdown: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("results.json", json.dumps(data, indent=1, sort_keys=False) + "\n"), ("results.md", markdown)):
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
