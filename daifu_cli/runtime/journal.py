"""The run's machine-readable trace under ``.daifu/``.

* ``run/<pid>.json``: the process's state (``running``, ``waiting``, ``exited``), with the
  exception and location while it waits; replaced atomically.
* ``log.jsonl``: append-only events (``crash``, ``patch``, ``action``, ``policy``,
  ``resume``, ``give-up``), one JSON object per line with a timestamp.

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

from . import trust


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
            trust.private_dir(self.state_path.parent)
            tmp = self.state_path.with_suffix(".tmp")
            fd = trust.open_private(tmp, os.O_WRONLY | os.O_TRUNC)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record, default=str))
            os.replace(tmp, self.state_path)
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
