"""A checkpoint's payload on disk: taken (a *snapshot*) at one moment, written then or later.

With torch loaded the payload is in ``torch.save``'s format. Written at once (a crash, SIGTERM:
the program waits anyway) it is ``torch.save`` itself, straight into the file. Taken to be
written later, while the program runs on (SIGUSR1, :mod:`.background`), torch's own pickling
(``torch.serialization._save``) runs into a recorder instead of a zip file: the structure comes
out as bytes and each tensor storage as one record, copied to host memory; a background thread
feeds the records to torch's zip writer, so the file is what ``torch.save`` would have written
at the safe point. (Where this torch's internals differ, the snapshot is a whole ``torch.save``
into memory: the same bytes, slower.)

Integrity without a second pass over the data: torch's zip writer computes a CRC32 of every
record anyway, so the check recorded with a checkpoint is a SHA-256 of the zip's central
directory (names, sizes, CRCs); reading verifies that digest (a few kB) and streams the records
against their CRCs. (A SHA-256 of the whole payload cost 0.67 s of a 1.5 s write at 100M
parameters + Adam.) Without torch the payload is a plain pickle, hashed whole.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import trust

if TYPE_CHECKING:
    from collections.abc import Callable

#: How a payload is checked: a digest of its zip directory, or of all its bytes.
ZIP_CRC = "zip-crc32"
SHA256 = "sha256"


class Damaged(Exception):
    """The payload is not the one the checkpoint describes (cut short, changed)."""


@dataclass
class Snapshot:
    """The payload: the object itself (written at once), torch's records, or bytes."""

    serializer: str  # "torch" or "pickle"
    obj: Any = None
    #: ``pickle`` or a module-like object whose ``Pickler`` has reducers of daifu's own
    #: (:mod:`.loaders`: a loader iterator saved as what reproduces the rest of its epoch).
    pickling: Any = pickle
    records: list[tuple[str, Any, int]] | None = None
    data: bytes | None = None
    #: Bytes of tensor storages copied to host memory for this snapshot.
    copied: int = 0

    def write(self, target: Path) -> tuple[dict[str, Any], int]:
        """Write atomically (a ``.partial`` file until whole and synced); the check that
        :func:`verify` reads it back with, and the size."""
        tmp = target.with_name(f".{target.name}.partial")
        fd = trust.open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            with os.fdopen(fd, "wb") as handle:
                if self.records is not None:
                    _write_zip(self.records, handle)
                elif self.data is not None:
                    handle.write(self.data)
                else:
                    import torch

                    torch.save(self.obj, handle, pickle_module=self.pickling)
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
            if self.serializer == "torch":
                with open(tmp, "rb") as written:
                    check = {"kind": ZIP_CRC, "digest": _directory_digest(written)}
            else:
                assert self.data is not None
                check = {"kind": SHA256, "digest": hashlib.sha256(self.data).hexdigest()}
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
        self.obj = self.records = self.data = None  # the copies go as soon as they are on disk
        return check, size


class _Recorder:
    """Stands in for torch's zip writer in ``torch.serialization._save``: keeps the records,
    every storage copied to host memory."""

    def __init__(self) -> None:
        self.records: list[tuple[str, Any, int]] = []
        self.copied = 0

    def write_record(self, name: str, data: Any, size: int) -> None:
        if isinstance(data, int):  # older torch hands over a storage's address
            import ctypes

            data = ctypes.string_at(data, size)
            self.copied += size
        elif not isinstance(data, (bytes, str)):
            # A GPU storage reaches here already copied by torch's ``.cpu()``; it is copied
            # once more, in host memory.
            data = data.clone() if data.device.type == "cpu" else data.cpu()
            self.copied += size
        self.records.append((name, data, size))

    def write_record_metadata(self, name: str, size: int) -> None:  # torch's skip_data mode
        raise RuntimeError("torch.serialization.skip_data is active: no checkpoint can be taken")


def snapshot(obj: Any, *, copy: bool, pickling: Any = pickle) -> Snapshot:
    """The payload of *obj* (torch's format when torch is loaded), pickled with *pickling*'s
    ``Pickler``. *copy*: serialized now, the tensors copied to host memory, so that the program
    may go on changing them while it is written; else *obj* as it is, to be written at once."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        buffer = io.BytesIO()
        pickling.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return Snapshot("pickle", data=buffer.getvalue(), pickling=pickling)
    if not copy:
        return Snapshot("torch", obj=obj, pickling=pickling)
    serialization = torch.serialization
    if not _recordable(serialization):
        buffer = io.BytesIO()
        torch.save(obj, buffer, pickle_module=pickling)
        return Snapshot("torch", data=buffer.getvalue(), copied=buffer.tell(), pickling=pickling)
    recorder = _Recorder()
    serialization._save(obj, recorder, pickling, serialization.DEFAULT_PROTOCOL, False)
    return Snapshot("torch", records=recorder.records, copied=recorder.copied, pickling=pickling)


def _recordable(serialization: Any) -> bool:
    """This torch's ``_save`` and zip writer are the ones :class:`_Recorder` stands in for."""
    import inspect

    save = getattr(serialization, "_save", None)
    if save is None or not hasattr(serialization, "_open_zipfile_writer"):
        return False
    names = list(inspect.signature(save).parameters)
    return names[:5] == [
        "obj",
        "zip_file",
        "pickle_module",
        "pickle_protocol",
        "_disable_byteorder_record",
    ]


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


def probe(obj: Any, pickling: Any = pickle, *, seen: Callable[[Any], None] | None = None) -> None:
    """Raise what pickling *obj* would raise, without serializing tensor data (milliseconds
    for a model's worth of tensors): a failed real write would cost a whole write. *seen* is
    shown every tensor and tensor storage on the way (it may raise; it must not read data)."""
    torch: Any = sys.modules.get("torch")

    class Probe(pickling.Pickler):  # type: ignore[name-defined,misc]
        def persistent_id(self, value: Any) -> Any:
            if torch is not None and (
                isinstance(value, torch.storage.TypedStorage) or torch.is_storage(value)
            ):
                if seen is not None:
                    seen(value)
                return id(value)
            return None

    if seen is not None and torch is not None:
        inherited = getattr(pickling.Pickler, "reducer_override", None)

        # Tensors too, not only storages: some (``meta`` ones) are pickled without one.
        inherited = getattr(pickling.Pickler, "reducer_override", None)

        def reducer_override(self: Any, value: Any) -> Any:
            if isinstance(value, torch.Tensor):
                seen(value)
            return inherited(self, value) if inherited is not None else NotImplemented

        Probe.reducer_override = reducer_override  # only here: it slows every other probe

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
