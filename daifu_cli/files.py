"""Walking an input project, and placing files in an output without duplicating big ones."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Folders never copied: version control, caches, virtual environments.
SKIPPED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".nox",
    ".tox",
    ".ipynb_checkpoints",
    ".daifu",
}


@dataclass(frozen=True)
class Entry:
    """A file of the input project."""

    path: Path
    #: Path relative to the project root, with ``/`` separators.
    relpath: str
    size: int
    symlink: bool = False
    #: A folder, listed so that the output has it even when nothing in it is copied (a
    #: program may save into its empty ``checkpoints/``).
    folder: bool = False

    @property
    def is_python(self) -> bool:
        return self.relpath.endswith(".py") and not self.symlink and not self.folder


def walk(root: Path, exclude_dirs: set[Path] | None = None) -> tuple[list[Entry], list[str]]:
    """Every file and folder under *root* in a stable order (a folder before what it holds),
    and the folders skipped (with reasons)."""
    entries: list[Entry] = []
    skipped: list[str] = []
    exclude_dirs = {p.resolve() for p in (exclude_dirs or set())}

    def visit(folder: Path) -> Iterator[Entry]:
        # An unreadable folder is an error (OSError), not a silent gap in the output.
        children = sorted(os.scandir(folder), key=lambda e: e.name)
        for child in children:
            path = Path(child.path)
            relpath = path.relative_to(root).as_posix()
            if child.is_dir(follow_symlinks=False):
                if child.name in SKIPPED_DIRS or path.resolve() in exclude_dirs:
                    skipped.append(f"{relpath}/")
                    continue
                if (path / "pyvenv.cfg").exists():
                    skipped.append(f"{relpath}/ (virtual environment)")
                    continue
                yield Entry(path, relpath, 0, folder=True)
                yield from visit(path)
            elif child.is_symlink():
                yield Entry(path, relpath, 0, symlink=True)
            elif child.is_file(follow_symlinks=False):
                yield Entry(path, relpath, child.stat(follow_symlinks=False).st_size)

    entries.extend(visit(root))
    return entries, skipped


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def place(entry: Entry, target: Path, link_threshold: int | None) -> str:
    """Put *entry* at *target*: ``"copied"``, ``"linked"`` (hard link, for files of at least
    *link_threshold* bytes on the same file system), ``"symlink"`` or ``"folder"``."""
    if entry.folder:
        target.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copymode(entry.path, target)
        except OSError:
            pass
        return "folder"
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry.symlink:
        os.symlink(os.readlink(entry.path), target)
        return "symlink"
    if link_threshold is not None and entry.size >= link_threshold:
        try:
            os.link(entry.path, target)
            return "linked"
        except OSError:
            pass
    shutil.copy2(entry.path, target)
    return "copied"


def write_bytes(target: Path, data: bytes, mode_from: Path | None = None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if mode_from is not None:
        try:
            shutil.copymode(mode_from, target)
        except OSError:
            pass


def atomic_write(target: Path, data: bytes, mode_from: Path | None = None) -> None:
    """Replace *target* in one step (a running program never reads half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.daifu-tmp")
    write_bytes(tmp, data, mode_from)
    os.replace(tmp, target)
