"""Running case programs as real processes, and driving daifu from outside.

Every measurement in crashbench comes from timestamps of real processes:

* :class:`Proc` runs a program with its output read line by line by threads that note each
  line's arrival time (the ``final:`` line carries no timestamp of its own) and a thread that
  notes the moment the process exits; both streams are also saved to log files;
* :func:`vaccinate`, :func:`patch`, :func:`drop_snippet` apply daifu and fixes the way a
  user would (the CLI, a file renamed into the patch folder);
* :func:`wait_until_waiting` polls the run's state file (every 5 ms) for ``waiting``;
* :func:`journal` reads the runtime's ``log.jsonl``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from crashbench.case import Case

POLL = 0.005
MANIFEST = ".daifu/manifest.json"
#: Intra-op threads of every case process (``--threads``; ``None``: the environment's). One by
#: default: on a machine whose cores other processes share, OpenMP's spinning worker threads
#: make a loop's time vary fifty-fold from run to run, which would swamp every comparison.
THREADS: int | None = 1
#: daifu gives up waiting after this long; a broken recovery then ends instead of hanging.
MAX_WAIT = "900"


def base_env(case: Case, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every case run: unbuffered output (so line arrival times are
    real), daifu's console off (no terminal), the case's own variables."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DAIFU_CONSOLE": "off", "DAIFU_MAX_WAIT": MAX_WAIT}
    env.pop("PYTHONPATH", None)
    env.pop("CB_CHECKPOINT_EVERY", None)
    env.pop("CB_CHECKPOINT", None)
    if THREADS is not None:
        env.update(OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))
    return {**env, **case.env, **(extra or {})}


_live: set[Proc] = set()


def kill_all() -> None:
    """Kill the case processes still running (the harness was interrupted)."""
    for proc in list(_live):
        proc.kill()


class Proc:
    """A program run with timestamped output lines and exit time."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], logs: Path) -> None:
        logs.parent.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        self.stdout: list[tuple[float, str]] = []
        self.stderr: list[tuple[float, str]] = []
        self.exit_time: float | None = None
        self.cpu_s: float | None = None
        self.started = time.time()
        self.popen = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        )
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self._threads = [
            threading.Thread(target=self._read, args=(self.popen.stdout, self.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._read, args=(self.popen.stderr, self.stderr, "stderr"), daemon=True),
            threading.Thread(target=self._wait, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        _live.add(self)

    def _read(self, stream: IO[str], into: list[tuple[float, str]], name: str) -> None:
        with open(f"{self.logs}.{name}", "w", encoding="utf-8") as log:
            for line in stream:
                into.append((time.time(), line.rstrip("\n")))
                log.write(line)

    def _wait(self) -> None:
        """Reap the process with ``wait4`` for its CPU time (user + system, its reaped
        children included): unlike wall time, it does not grow when other work shares the
        cores, so the overhead report gives it beside the loop times."""
        try:
            _, status, usage = os.wait4(self.popen.pid, 0)
        except ChildProcessError:  # reaped by a concurrent poll() (kill)
            self.popen.wait()
        else:
            self.popen.returncode = os.waitstatus_to_exitcode(status)
            self.cpu_s = usage.ru_utime + usage.ru_stime
        self.exit_time = time.time()
        _live.discard(self)

    @property
    def done(self) -> bool:
        return self.exit_time is not None

    def wait(self, timeout: float) -> bool:
        """Wait for the exit (and the end of its output); ``False`` on timeout (then killed)."""
        self._threads[2].join(timeout)
        if not self.done:
            self.kill()
            return False
        for thread in self._threads[:2]:
            thread.join(10)
        return True

    def kill(self) -> None:
        if not self.done:
            try:
                self.popen.kill()
            except OSError:
                pass
        self._threads[2].join(10)
        for thread in self._threads[:2]:
            thread.join(10)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def err_lines(self) -> list[str]:
        return [line for _, line in self.stderr]

    def out_lines(self) -> list[str]:
        return [line for _, line in self.stdout]

    def final_arrival(self) -> float | None:
        """When the ``final:`` line arrived (the end of the training loop)."""
        found = [when for when, line in self.stdout if line.startswith("final:")]
        return found[-1] if found else None

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.err_lines()[-lines:])


def python_cmd(entry: str) -> list[str]:
    return [sys.executable, entry]


def start(case: Case, root: Path, logs: Path, extra_env: dict[str, str] | None = None, script: str | None = None) -> Proc:
    """Start the case's entry (or *script*) in *root*, as ``validate.py`` does."""
    return Proc(python_cmd(script or case.entry), root, base_env(case, extra_env), logs)


def copy_run(source: Path, target: Path) -> Path:
    """A copy of a crashed run's folder (with whatever files it left, a fault's marker
    say) for the rerun; the fix is then applied to the copy."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def vaccinate(case: Case, src: Path, out: Path) -> None:
    cmd = [sys.executable, "-m", "daifu_cli", "vaccinate", str(src), "-o", str(out), "-q", "--force"]
    for pattern in ["cb_support.py", *case.exclude]:
        cmd += ["--exclude", pattern]
    result = subprocess.run(cmd, cwd=src.parent, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"daifu vaccinate failed ({result.returncode}): {result.stderr[-2000:]}")


def patch(src: Path, out: Path) -> float:
    """``daifu patch SRC -o OUT``; returns when its files were in place: the mtime of the
    manifest, its last write before it lets waiting runs apply the fix (the command's own
    shutdown after that is not part of applying the fix). The kernel stamps mtimes with a
    coarse clock, a few ms early at most, which only lengthens the measured restore."""
    result = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "patch", str(src), "-o", str(out)],
        cwd=src.parent, capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"daifu patch failed ({result.returncode}): {result.stderr[-2000:]}")
    return (out / MANIFEST).stat().st_mtime_ns / 1e9


def drop_snippet(out: Path, text: str) -> None:
    """Write the action snippet beside the patch folder's name, then rename it into place, so
    the runtime never sees half a file."""
    folder = out / ".daifu" / "patches"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "fix.py.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / "fix.py")


def waiting_state(out: Path) -> dict[str, Any] | None:
    """The state record of a process of *out* that waits for a fix, if there is one."""
    for path in (out / ".daifu" / "run").glob("*.json"):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("status") == "waiting":
            return state  # type: ignore[no-any-return]
    return None


def wait_until_waiting(out: Path, proc: Proc, timeout: float, poll: float = POLL) -> tuple[dict[str, Any] | None, float]:
    """Poll (every 5 ms) until the run waits for a fix or exits; returns the waiting state
    (``None`` otherwise) and the time it was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = waiting_state(out)
        if state is not None:
            return state, time.time()
        if proc.done:
            return None, time.time()
        time.sleep(poll)
    return None, time.time()


def journal(out: Path) -> list[dict[str, Any]]:
    events = []
    try:
        with open(out / ".daifu" / "log.jsonl", encoding="utf-8") as handle:
            for line in handle:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return events


def timed(action: Callable[[], None]) -> tuple[float, float]:
    """Run *action*; its start and end as Unix times."""
    begin = time.time()
    action()
    return begin, time.time()
