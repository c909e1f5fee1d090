"""``daifu status`` and ``daifu attach``: read a run's state; talk to a waiting run."""

from __future__ import annotations

import json
import os
import select
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daifu_cli.keep import process_alive

END = "\x00"


def read_status(output: Path) -> dict[str, Any]:
    home = output / ".daifu"
    processes = []
    for path in sorted((home / "run").glob("*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        state["alive"] = process_alive(int(state.get("pid", 0)))
        processes.append(state)
    events = []
    try:
        with open(home / "log.jsonl", encoding="utf-8") as handle:
            for line in handle:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return {"output": str(output), "processes": processes, "events": events}


def prune_runs(output: Path) -> list[int]:
    """Remove the run files (and stale sockets) of processes that ended or are gone."""
    removed = []
    for proc in read_status(output)["processes"]:
        if proc["alive"] and proc.get("status") != "ended":
            continue
        pid = int(proc.get("pid", 0))
        for path in (output / ".daifu" / "run" / f"{pid}.json", output / ".daifu" / "run" / f"{pid}.sock"):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        removed.append(pid)
    return removed


def attach_console(output: Path, pid: int | None, echo: Callable[[str], None]) -> int:
    """The console of a waiting run, following it: when the run resumes (by this console's
    ``retry``/``skip``, a patch or a snippet) the client waits for its next crash and attaches
    again, and ends when the run ends. End of input (Ctrl+D) detaches; Ctrl+C stops."""
    waiting = [
        p for p in read_status(output)["processes"] if p.get("status") == "waiting" and p["alive"] and p.get("socket")
    ]
    if pid is not None:
        waiting = [p for p in waiting if p["pid"] == pid]
    if not waiting:
        echo("no waiting run to attach to (see `daifu status`)")
        return 1
    if len(waiting) > 1:
        echo("several runs wait for a fix; choose one with --pid: " + ", ".join(str(p["pid"]) for p in waiting))
        return 2
    target = waiting[0]
    stdin = _Lines(sys.stdin.fileno())
    try:
        while True:
            outcome = _converse(target, stdin, echo)
            if outcome != "resumed":
                return 0 if outcome in ("detached", "ended") else 1
            echo(f"daifu: pid {target['pid']} resumed; following it until it waits again or ends (Ctrl+C to stop)")
            target = _next_wait(output, target, echo)
            if target is None:
                return 0
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 0


def _converse(target: dict[str, Any], stdin: _Lines, echo: Callable[[str], None]) -> str:
    """Talk to one wait of the run: ``resumed`` when it hung up, ``detached`` at the end of
    input, ``failed`` when it could not be reached."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(target["socket"])
    except OSError as exc:
        echo(f"cannot connect to pid {target['pid']}: {exc}")
        return "failed"
    with client:
        sent = replies = 0
        detaching = False  # the person typed `detach` (or quit): the run hangs up, it did not resume
        while True:
            if stdin.closed and replies > sent:  # every line answered (and the greeting)
                if detaching:  # the console already detached (and hung up)
                    sys.stdout.write("\n")
                    return "detached"
                try:
                    client.sendall(b"detach\n")
                    _read_reply(client)
                except OSError:
                    return "resumed"
                sys.stdout.write("\n")
                return "detached"
            ready: list[int]
            if stdin.has_line():
                ready = [stdin.fd]  # lines already read: send them before waiting again
            else:
                readers = [client.fileno(), *([stdin.fd] if not stdin.closed else [])]
                ready, _, _ = select.select(readers, [], [])
            if client.fileno() in ready:
                try:
                    data = client.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    return "detached" if detaching else "resumed"
                replies += data.count(END.encode())
                sys.stdout.write(data.replace(END.encode(), b"").decode("utf-8", "replace"))
                sys.stdout.flush()
            if stdin.fd in ready:
                line = stdin.read_line()
                if line:
                    detaching = line.strip() in (b"detach", b"quit", b"q")
                    try:
                        client.sendall(line)
                    except OSError:
                        return "resumed"
                    sent += 1


def _next_wait(output: Path, previous: dict[str, Any], echo: Callable[[str], None]) -> dict[str, Any] | None:
    """Wait until the run waits again (a new crash) or ends."""
    pid = previous["pid"]
    while True:
        state = next((p for p in read_status(output)["processes"] if p.get("pid") == pid), None)
        if state is None or not state["alive"]:
            echo(f"daifu: pid {pid} is gone; console closed")
            return None
        if state.get("status") == "ended":
            echo(f"daifu: pid {pid} ended: {state.get('how', 'finished')}; console closed")
            return None
        if state.get("status") == "waiting" and state.get("socket") and state.get("since", 0) > previous.get("since", 0):
            return state
        time.sleep(0.05)


class _Lines:
    """Whole lines from a file descriptor, read without Python's buffering (so that
    ``select`` on the descriptor tells the truth)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.closed = False

    def has_line(self) -> bool:
        return b"\n" in self.buffer

    def read_line(self) -> bytes | None:
        """The next line (with its newline); ``None`` at the end of input."""
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.closed = True
                if self.buffer:
                    line, self.buffer = self.buffer + b"\n", b""
                    return line
                return None
            self.buffer += chunk
            if b"\n" not in self.buffer:
                return b""  # part of a line: wait for the rest
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"


def _read_reply(client: socket.socket) -> tuple[str, bool]:
    """One reply from the waiting run; ``closed`` when the run hung up (it resumed)."""
    data = b""
    while not data.endswith(END.encode()):
        chunk = client.recv(65536)
        if not chunk:
            return data.decode("utf-8", "replace"), True
        data += chunk
    text = data[:-1].decode("utf-8", "replace")
    return text, False
