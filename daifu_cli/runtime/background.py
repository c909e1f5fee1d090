"""Writing a process checkpoint while the program runs on (SIGUSR1).

At the safe point the checkpoint is *taken*: every value serialized and every tensor storage
copied to host memory (:func:`.restart.prepare_running` with ``copy=True``), so the program is
blocked only that long; one thread then writes it (payload, fsync, description).

This follows ``torch.distributed.checkpoint.async_save``: stage the state to CPU memory
synchronously, then hand the write to a single background worker, so at most one write is in
flight. DCP itself is not used: it saves state dicts of tensors into its own multi-file format,
while a process checkpoint pickles arbitrary objects (frames' variables, iterators) and must be
readable by ``daifu resume`` and ``torch.load``; nor its reusable pinned staging buffers (a
GPU-side concern; on the CPU a copy is a copy).

A request while a write is in flight is skipped, and said (a queue would only write a state
older than the one the next request takes); SIGTERM waits for it, then writes its own
synchronously before the process ends.
"""

from __future__ import annotations

import sys
import threading
import time

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_writer: threading.Thread | None = None


def busy() -> bool:
    return _writer is not None and _writer.is_alive()


def wait() -> None:
    """Until the write in flight (if any) is on disk."""
    writer = _writer
    if writer is not None:
        writer.join()


def start(prepared: Any, describe: Callable[[Any], str]) -> None:
    """Write *prepared* (a :class:`.restart.Prepared`) in a daemon thread; say
    ``describe(written)`` when done, with the time the program was blocked and the write."""
    global _writer

    def write() -> None:
        started = time.perf_counter()
        try:
            written = prepared.write()
            said = describe(written)
            said += (
                f"\n  (the program was held {prepared.snapshot_seconds * 1000:.0f} ms; "
                f"written in the background in {time.perf_counter() - started:.1f} s)"
            )
        except Exception as exc:
            said = f"daifu: could not write a process checkpoint: {type(exc).__name__}: {exc}"
        print(said, file=sys.stderr, flush=True)

    # Not a daemon: a program that ends meanwhile waits for the checkpoint to be whole.
    _writer = threading.Thread(target=write, name="daifu-checkpoint-writer")
    _writer.start()
