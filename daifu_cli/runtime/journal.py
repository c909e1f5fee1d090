"""The run's machine-readable trace under ``.daifu/``.

* ``run/<pid>.json``: the process's state (``running``, ``waiting``, ``exited``), with the
  exception and location while it waits; replaced atomically.
* ``log.jsonl``: append-only events (``crash``, ``patch``, ``action``, ``policy``,
  ``resume``, ``give-up``, ``jit-checkpoint``, and ``unplaced`` for a crash that could not be
  placed at a statement, with the reason), one JSON object per line with a timestamp.

``daifu status OUT`` reads both.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any


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
            **fields,
        }
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, default=str), encoding="utf-8")
            os.replace(tmp, self.state_path)
        except OSError:
            pass  # a read-only output folder must not break the run

    def event(self, kind: str, **fields: Any) -> None:
        record = {"ts": time.time(), "pid": self.pid, "event": kind, **fields}
        line = json.dumps(record, default=str) + "\n"
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.home / "log.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass
