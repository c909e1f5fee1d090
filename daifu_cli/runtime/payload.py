"""A checkpoint's payload on disk: taken (a *snapshot*) at one moment, written later or at once.

With torch loaded the payload is in ``torch.save``'s format, made by torch's own pickling
(``torch.serialization._save``) into a recorder instead of a zip file: the pickled structure
comes out as bytes and each tensor storage as one record. :func:`snapshot` stops there, so the
program's objects are serialized at the safe point; with ``copy=True`` every storage is copied
to host memory too, and the program may go on changing its tensors while a background thread
writes (:meth:`Snapshot.write`). Without a copy the records point at the live storages and are
written at once: the bytes are exactly ``torch.save``'s, at ``torch.save``'s speed.

Integrity without a second pass over the data: torch's zip writer computes a CRC32 of every
record anyway, so the check recorded with a checkpoint is a SHA-256 of the zip's central
directory (names, sizes, CRCs); reading verifies that digest (a few kB) and streams the records
against their CRCs. (A SHA-256 of the whole payload cost 0.67 s of a 1.5 s write at 100M
parameters + Adam.) Without torch the payload is a plain pickle, hashed whole while written.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import trust

#: How a payload is checked: a digest of its zip directory, or of all its bytes.
ZIP_CRC = "zip-crc32"
SHA256 = "sha256"


class Damaged(Exception):
    """The payload is not the one the checkpoint describes (cut short, changed)."""


@dataclass
class Snapshot:
    """The payload at one moment: torch's records, or pickle's bytes."""

    serializer: str  # "torch" or "pickle"
    records: list[tuple[str, Any, int]] = field(default_factory=list)
    pickled: bytes = b""
    #: Bytes of tensor storages copied to host memory for this snapshot.
    copied: int = 0

    def write(self, target: Path) -> tuple[dict[str, Any], int]:
        """Write atomically (a ``.partial`` file until whole and synced); the check that
        :func:`verify` reads it back with, and the size."""
        tmp = target.with_name(f".{target.name}.partial")
        fd = trust.open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            with os.fdopen(fd, "wb") as handle:
                if self.serializer == "torch":
                    _write_zip(self.records, handle)
                    check: dict[str, Any] = {}
                else:
                    handle.write(self.pickled)
                    check = {"kind": SHA256, "digest": hashlib.sha256(self.pickled).hexdigest()}
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
            if self.serializer == "torch":
                with open(tmp, "rb") as written:
                    check = {"kind": ZIP_CRC, "digest": _directory_digest(written)}
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
        self.records = []  # the copies go as soon as they are on disk
        self.pickled = b""
        return check, size


class _Recorder:
    """Stands in for torch's zip writer in ``torch.serialization._save``: keeps the records."""

    def __init__(self, copy: bool) -> None:
        self.copy = copy
        self.records: list[tuple[str, Any, int]] = []
        self.copied = 0

    def write_record(self, name: str, data: Any, size: int) -> None:
        if not isinstance(data, (bytes, str)) and self.copy:
            # A host copy of the storage: the program goes on changing the original. (A GPU
            # storage reaches here already copied by torch's ``.cpu()``; it is copied once
            # more, in host memory.)
            data = data.clone() if data.device.type == "cpu" else data.cpu()
            self.copied += size
        self.records.append((name, data, size))

    def write_record_metadata(self, name: str, size: int) -> None:  # torch's skip_data mode
        raise RuntimeError("torch.serialization.skip_data is active: no checkpoint can be taken")


def snapshot(obj: Any, *, copy: bool) -> Snapshot:
    """Serialize *obj* now (torch's format when torch is loaded); *copy*: tensor storages
    copied to host memory, so the snapshot stays as it is while the program runs on."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return Snapshot("pickle", pickled=pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    recorder = _Recorder(copy)
    serialization = torch.serialization
    serialization._save(obj, recorder, pickle, serialization.DEFAULT_PROTOCOL, False)
    return Snapshot("torch", records=recorder.records, copied=recorder.copied)


def _write_zip(records: list[tuple[str, Any, int]], handle: Any) -> None:
    """torch's zip writer, fed the recorded records: what ``torch.save`` itself writes."""
    import torch

    with torch.serialization._open_zipfile_writer(handle) as writer:  # the end record on exit
        for name, data, size in records:
            writer.write_record(name, data, size)


def _directory_digest(handle: Any) -> str:
    """SHA-256 of a zip's directory: every record's name, size and CRC32."""
    try:
        entries = [(i.filename, i.file_size, i.CRC) for i in zipfile.ZipFile(handle).infolist()]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Damaged(f"not a whole zip archive ({exc})") from None
    return hashlib.sha256(repr(entries).encode("utf-8")).hexdigest()


def probe(obj: Any) -> None:
    """Raise what pickling *obj* would raise, without serializing tensor data (milliseconds
    for a model's worth of tensors): a failed real write would cost a whole write."""
    torch: Any = sys.modules.get("torch")

    class Probe(pickle.Pickler):
        def persistent_id(self, value: Any) -> Any:
            if torch is not None and (isinstance(value, torch.storage.TypedStorage) or torch.is_storage(value)):
                return id(value)
            return None

    Probe(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(obj)


class _Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(memoryview(data))


def verify(path: Path, check: dict[str, Any]) -> None:
    """Raise :class:`Damaged` unless the payload at *path* is the one *check* describes:
    its directory digest, then every record against its CRC32 (unless ``check["data"]`` is
    false: the directory only, a few kB)."""
    kind = check.get("kind")
    with open(path, "rb") as handle:
        if kind == SHA256:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                digest.update(chunk)
            if digest.hexdigest() != check.get("digest"):
                raise Damaged("SHA-256 differs")
            return
        if kind != ZIP_CRC:
            raise Damaged(f"unknown check {kind!r}")
        if _directory_digest(handle) != check.get("digest"):
            raise Damaged("its records differ from those the checkpoint names")
        if check.get("data") is False:
            return
        archive = zipfile.ZipFile(handle)
        for info in archive.infolist():
            try:
                with archive.open(info) as record:  # zipfile checks the CRC32 at the end
                    while record.read(1 << 22):
                        pass
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise Damaged(f"record {info.filename}: {exc}") from None


def load(path: Path, serializer: str | None) -> Any:
    """Unpickle the payload (loading runs pickle: only for payloads :mod:`.trust` allowed)."""
    if serializer == "torch":
        import torch

        return torch.load(path, weights_only=False)
    with open(path, "rb") as handle:
        return pickle.load(handle)
