"""The run's machine-readable trace under ``.daifu/``.

* ``run/<pid>.json``: the process's state (``running``, ``waiting``, ``ended``), with the
  exception and location while it waits, and how the process ended (``finished``, ``given
  up``, ``uncaught ...``, ``killed by signal N``); replaced atomically. A process killed
  without a chance to write (SIGKILL) stays ``running``/``waiting``, and ``daifu status``
  shows it as gone.
* ``log.jsonl``: append-only events (``crash``, ``patch``, ``action``, ``policy``,
  ``resume``, ``give-up``, ``jit-checkpoint``, and ``unplaced`` for a crash that could not be
  placed at a statement, with the reason), one JSON object per line with a timestamp.

``daifu status OUT`` reads both.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from . import trust

#: The last state this process wrote (``None`` before its first crash), for the record of
#: its end written at exit.
_last: dict[str, Any] | None = None
#: Why this process gave a crash up, if it did (the end record says so).
gave_up: str | None = None


def _job_fields() -> dict[str, Any]:
    """A torchrun worker's rank and world size, for ``daifu status`` to show the job."""
    env = os.environ
    if "TORCHELASTIC_RUN_ID" not in env:
        return {}
    try:
        return {"rank": int(env["RANK"]), "world": int(env["WORLD_SIZE"])}
    except (KeyError, ValueError):
        return {}


class Journal:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.pid = os.getpid()

    @property
    def state_path(self) -> Path:
        return self.home / "run" / f"{self.pid}.json"

    def state(self, status: str, **fields: Any) -> None:
        record = {
            "pid": self.pid,
            "status": status,
            "since": time.time(),
            "host": socket.gethostname(),
            "argv": sys.argv,
            **_job_fields(),
            **fields,
        }
        global _last
        if _last is None:
            atexit.register(_record_end)
        _last = {"journal": self, "status": status, "fields": fields}
        try:
            trust.private_dir(self.state_path.parent)
            trust.write_private(self.state_path, json.dumps(record, default=str).encode("utf-8"))
        except OSError:
            pass  # a read-only output folder must not break the run

    def event(self, kind: str, **fields: Any) -> None:
        record = {"ts": time.time(), "pid": self.pid, "event": kind, **fields}
        line = json.dumps(record, default=str) + "\n"
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            # owner-only: it holds exception messages and variable summaries
            fd = trust.open_private(self.home / "log.jsonl", os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass


def _record_end() -> None:
    """At exit: how the process ended, unless it already said (``ended``)."""
    if _last is None or _last["status"] == "ended" or _last["journal"].pid != os.getpid():
        return
    uncaught = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if uncaught is not None:
        how = f"uncaught {type(uncaught).__name__}"
        if gave_up:
            how += f" ({gave_up})"
    else:
        how = "finished"
    _last["journal"].state("ended", how=how)
