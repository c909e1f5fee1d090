"""Each rank's random state after its last optimizer step, kept where a restarted job finds it
after the rank's process is gone.

A rank rebuilt from the replica's checkpoint (:mod:`.jobcheckpoint`) went on with the
replica's random generators: the same as its own only where every rank seeds alike. Scripts
often seed each rank apart (``torch.manual_seed(args.seed + rank)``), and then the rebuilt
rank's dropout masks and augmentations differed from the uninterrupted run's from the redone
step on. So each torchrun worker writes torch's CPU generator state after every optimizer
step (:mod:`.steps` copies it anyway) into a small file of the output that it maps in memory:
``.daifu/job/<run id>/attempt-<n>/rng-<rank>.bin``. A ``kill -9`` does not lose what a process
wrote to a shared mapping (the page cache keeps it; a lost node does). The rebuilt rank of the
restarted job reads its own rank's file of the attempt it resumes, for the step the job redoes.

Two slots, the step's parity choosing one, each a header (step count, length, CRC-32) written
after its data: a process killed in the middle of a write leaves the other slot whole, and the
CRC tells a torn one. Cost per step: a copy of about 5 kB and its CRC (a few microseconds).
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import zlib

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_HEADER = struct.Struct("<QII")  # step count, data length, CRC-32 of the data
_SIZE = 8192  # per slot: torch's CPU generator state is 5056 bytes
_map: Any = None
_failed = False


def file_for(home: Path, rank: int | str, attempt: int | str | None = None) -> Path:
    from .jobcheckpoint import attempt_folder

    return attempt_folder(home, attempt) / f"rng-{rank}.bin"


def publish(count: int, state: Any) -> None:
    """After optimizer step *count*: write *state* (torch's CPU generator state, a uint8
    tensor) to this rank's slot for that step. Never raises: the run does not depend on it."""
    global _map, _failed
    if _failed:
        return
    try:
        if _map is None:
            _map = _open()
        data = state.numpy().tobytes()
        if len(data) + _HEADER.size > _SIZE:
            raise ValueError(f"a generator state of {len(data)} bytes")
        start = (count % 2) * _SIZE
        _map[start + _HEADER.size : start + _HEADER.size + len(data)] = data
        _map[start : start + _HEADER.size] = _HEADER.pack(count, len(data), zlib.crc32(data))
    except Exception as exc:
        _failed = True
        print(f"daifu: this rank's random state is not kept for a restart ({type(exc).__name__}: {exc})",
              file=sys.stderr, flush=True)


def _open() -> Any:
    from . import config as config_module

    path = file_for(config_module.load().home, os.environ["RANK"])
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(descriptor, 2 * _SIZE)
        return mmap.mmap(descriptor, 2 * _SIZE)
    finally:
        os.close(descriptor)


def read(path: Path, count: int) -> bytes | None:
    """The state a rank wrote after step *count*, or ``None`` (no file, overwritten, torn)."""
    try:
        content = path.read_bytes()
    except OSError:
        return None
    for start in (0, _SIZE):
        if len(content) < start + _HEADER.size:
            continue
        step, length, check = _HEADER.unpack_from(content, start)
        data = content[start + _HEADER.size : start + _HEADER.size + length]
        if step == count and len(data) == length and zlib.crc32(data) == check:
            return data
    return None
