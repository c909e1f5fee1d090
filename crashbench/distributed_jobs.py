"""Real torchrun jobs for the distributed cases: start one in a session of its own, watch it
with bounded polling, apply a fix when its crash is visible, and kill every process it left.

What a job leaves behind (read by :mod:`crashbench.distributed_metrics`): the ranks' mark
files, daifu's log and run files (the vaccinated program), and the moments the harness saw
(the fix written, each worker of each attempt gone, torchrun's end).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How often the harness looks at the marks, daifu's files and the workers (seconds).
POLL_S = 0.02
#: torchrun's agent checks its workers this often. Long enough that the survivor of a killed
#: rank can notice the loss itself before the agent stops it (as the agent of another node in
#: a multi-node job would not see the death at all), the same for every strategy.
MONITOR_INTERVAL_S = 5
#: Ranks of every job (``--ranks``); rank 1 is the one that faults.
RANKS = 2


def torchrun(max_restarts: int) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={RANKS}",
        f"--max-restarts={max_restarts}", f"--monitor-interval={MONITOR_INTERVAL_S}", "main.py",
    ]


def job_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DAIFU_CONSOLE": "off", "DAIFU_MAX_WAIT": "300",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **extra}
    env.pop("PYTHONPATH", None)
    return env


@dataclass
class Mark:
    ts: float
    attempt: int
    rank: int
    pid: int
    what: str
    step: int
    extra: str


@dataclass
class Job:
    """One finished (or killed) torchrun job and what the harness saw of it."""

    folder: Path  # where main.py ran
    marks_dir: Path
    returncode: int | None
    started: float
    ended: float
    timed_out: bool
    fix_done: float | None = None
    fix_error: str | None = None
    gone: dict[int, float] = field(default_factory=dict)  # worker pid -> first seen ended
    #: daifu's run files as polled: worker pid -> status -> since (the first of each status)
    statuses: dict[int, dict[str, float]] = field(default_factory=dict)

    def marks(self) -> list[Mark]:
        found = []
        for path in sorted(self.marks_dir.glob("rank*.log")):
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) == 7:
                    found.append(Mark(float(words[0]), int(words[1]), int(words[2]), int(words[3]),
                                      words[4], int(words[5]), words[6]))
        return sorted(found, key=lambda m: m.ts)

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.folder)

    def output(self) -> tuple[str, str]:
        return ((self.folder / "torchrun.out").read_text(errors="replace"),
                (self.folder / "torchrun.err").read_text(errors="replace"))


def read_events(folder: Path) -> list[dict[str, Any]]:
    try:
        lines = (folder / ".daifu" / "log.jsonl").read_text().splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:  # being written
            continue
    return events


def read_states(folder: Path) -> list[dict[str, Any]]:
    found = []
    for path in (folder / ".daifu" / "run").glob("*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def gone(pid: int) -> bool:
    """Ended: no longer there, or a zombie (torchrun reaps its workers at its monitor interval)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in (b"Z", b"X")


def children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def kill_job(process: subprocess.Popen[bytes], worker_pids: set[int]) -> None:
    """torchrun starts each worker in a session of its own: kill them by pid (its children now,
    and every worker a mark named), then torchrun's own group."""
    for pid in set(children(process.pid)) | worker_pids:
        if not gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


#: Applies the fix once the crash is visible; returns when the fix is in place.
Fixer = Callable[[], None]
#: Whether the crash is visible (given the job's folder and its marks so far).
CrashSeen = Callable[[Path, list[Mark]], bool]


def run_job(folder: Path, env: dict[str, str], max_restarts: int, timeout_s: float,
            crash_seen: CrashSeen | None = None, fix: Fixer | None = None, daifu: bool = False) -> Job:
    """Run ``main.py`` in *folder* under torchrun; every wait bounded by *timeout_s*."""
    marks_dir = folder / "marks"
    marks_dir.mkdir(exist_ok=True)
    env = job_env({**env, "CB_MARKS": str(marks_dir)})
    with open(folder / "torchrun.out", "wb") as out, open(folder / "torchrun.err", "wb") as err:
        started = time.time()
        process = subprocess.Popen(torchrun(max_restarts), cwd=folder, env=env, stdout=out,
                                   stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    job = Job(folder, marks_dir, None, started, started, False)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + timeout_s
        while process.poll() is None:
            if time.monotonic() > deadline:
                job.timed_out = True
                break
            marks = job.marks()
            now = time.time()
            for m in marks:
                workers.add(m.pid)
            for pid in workers:
                if pid not in job.gone and gone(pid):
                    job.gone[pid] = now
            if daifu:
                for state in read_states(folder):
                    if state.get("pid") in workers:
                        seen = job.statuses.setdefault(int(state["pid"]), {})
                        seen.setdefault(str(state.get("status")), float(state.get("since", now)))
            if fix is not None and job.fix_done is None and crash_seen is not None and crash_seen(folder, marks):
                try:
                    fix()
                except Exception as exc:  # reported, and the job is left to its bound
                    job.fix_error = f"{type(exc).__name__}: {exc}"
                job.fix_done = time.time()
            time.sleep(POLL_S)
        job.ended = time.time()
        job.returncode = process.poll()
    finally:
        workers |= {m.pid for m in job.marks()}
        kill_job(process, workers)
    return job
