"""A vaccinated program run in a real subprocess, crashed, fixed and resumed (test helper)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from daifu_cli.options import merge
from daifu_cli.patch import patch_once
from daifu_cli.project import Request, vaccinate_project


class Run:
    """One program: its source folder, its vaccinated output, and the running process."""

    def __init__(self, tmp_path: Path, files: dict[str, str], *, env: dict[str, str] | None = None,
                 entry: str = "main.py", policy: str = "default") -> None:
        self.src = tmp_path / "src"
        self.out = tmp_path / "vax"
        self.src.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (self.src / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        outcome = vaccinate_project(Request(self.src, self.out, merge(self.src, policy=policy)))
        assert not outcome.errors, outcome.errors
        self.entry = entry
        self.env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.env.pop("PYTHONPATH", None)
        self.process: subprocess.Popen[str] | None = None

    def start(self, **kwargs) -> Run:  # type: ignore[no-untyped-def]
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        self.process = subprocess.Popen(
            [sys.executable, self.entry],
            cwd=self.out,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )
        return self

    def states(self) -> list[dict]:  # type: ignore[type-arg]
        found = []
        for path in (self.out / ".daifu" / "run").glob("*.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def wait_waiting(self, timeout: float = 60, count: int = 1) -> dict:  # type: ignore[type-arg]
        """Block until the program waits for a fix for the *count*-th time."""
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            crashes = len([e for e in self.events() if e["event"] == "crash"])
            waiting = [s for s in self.states() if s.get("status") == "waiting"]
            if waiting and crashes >= count:
                return waiting[0]
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise AssertionError(f"exited {self.process.returncode} instead of waiting:\n{out}\n{err}")
            time.sleep(0.02)
        self.kill()
        raise AssertionError("the program never waited for a fix")

    def events(self) -> list[dict]:  # type: ignore[type-arg]
        try:
            lines = (self.out / ".daifu" / "log.jsonl").read_text().splitlines()
        except OSError:
            return []
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:  # a line being written right now
                continue
        return events

    def edit_source(self, old: str, new: str, file: str = "main.py") -> None:
        path = self.src / file
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    def patch(self, old: str, new: str, file: str = "main.py") -> list[str]:
        """Fix the source as a user would, then `daifu patch`."""
        self.edit_source(old, new, file)
        return patch_once(self.src, self.out)

    def snippet(self, text: str, name: str = "fix.py") -> None:
        folder = self.out / ".daifu" / "patches"
        tmp = folder / f".{name}.tmp"
        tmp.write_text(textwrap.dedent(text))
        os.replace(tmp, folder / name)

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        assert self.process is not None
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()  # a failing test must not leave a program waiting for a fix forever
            raise
        return self.process.returncode, out, err

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def run_plain(folder: Path, entry: str = "main.py", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DAIFU_CONSOLE": "off", "DAIFU_WAIT": "0", **(env or {})}
    full.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, entry], cwd=folder, capture_output=True, text=True, timeout=300, env=full)


def fixed_copy(run: Run, tmp_path: Path, edits: list[tuple[str, str]], file: str = "main.py") -> Path:
    """The original program with *edits* applied, in its own folder (not vaccinated)."""
    target = tmp_path / "fixed"
    target.mkdir()
    for path in run.src.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    text = (target / file).read_text()
    for old, new in edits:
        text = text.replace(old, new, 1)
    (target / file).write_text(text)
    return target


def rewrite(run: Run, new: str) -> list[str]:
    """Replace the whole program with *new* (dedented) and `daifu patch` it."""
    (run.src / "main.py").write_text(textwrap.dedent(new).lstrip(), encoding="utf-8")
    return patch_once(run.src, run.out)


def wait_event(run: Run, name: str, count: int = 1, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    """The *count*-th event *name* of the run's log, once written (``cannot-resume``: a fix
    refused while the program keeps waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in run.events() if e["event"] == name]
        if len(found) >= count:
            return found[count - 1]
        assert run.process is not None and run.process.poll() is None, run.finish()
        time.sleep(0.02)
    run.kill()
    raise AssertionError(f"no {name} event")


def gloo_aborted_at_shutdown(returncode: int, err: str) -> bool:
    """gloo's abort of a rank at shutdown, after training (torchrun then reports the rank's
    exit code -6, SIGABRT; or the signal itself)."""
    return returncode != 0 and (
        returncode < 0
        or "Signal " in err
        or "terminate called without an active exception" in err
        or "exitcode: -6" in err
    )
