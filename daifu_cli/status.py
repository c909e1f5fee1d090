"""``daifu status`` and ``daifu attach``: read a run's state; talk to a waiting run."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

END = "\x00"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(output: Path) -> dict[str, Any]:
    home = output / ".daifu"
    processes = []
    for path in sorted((home / "run").glob("*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        state["alive"] = _alive(int(state.get("pid", 0)))
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
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(target["socket"])
    except OSError as exc:
        echo(f"cannot connect to pid {target['pid']}: {exc}")
        return 1
    try:
        with client:
            reply, closed = _read_reply(client)
            sys.stdout.write(reply)
            sys.stdout.flush()
            while not closed:
                try:
                    line = input()
                except (EOFError, KeyboardInterrupt):
                    client.sendall(b"detach\n")
                    _read_reply(client)
                    sys.stdout.write("\n")
                    return 0
                client.sendall((line + "\n").encode("utf-8"))
                reply, closed = _read_reply(client)
                sys.stdout.write(reply)
                sys.stdout.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass
    echo("the run is no longer waiting (it resumed or ended); console closed")
    return 0


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
