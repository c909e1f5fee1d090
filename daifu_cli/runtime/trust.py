"""Who may change a waiting run: the user it runs as, or root; nobody else.

A snippet, a re-vaccinated module and a console command all run code inside the training
process, with its user's rights. So a file is applied only when it belongs to the run's user
(or root) and sits in a folder that no other user can write (a file there could be swapped
between the check and the read); a console client is served only when the kernel says its
process runs as the same user (or root). Folders holding run state are owner-only whatever
the umask, and files with exception messages, variable summaries or checkpoints are
owner-only too.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path

#: Folders of ``.daifu/`` where other users have no business.
PRIVATE_DIRS = ("run", "patches", "jit")


def _trusted_uid(uid: int) -> bool:
    return uid == os.getuid() or uid == 0


def _private_group(gid: int) -> bool:
    """A user-private group (the run user's primary group with no other members, what
    `umask 002` systems give each user): its write bit lets nobody else in."""
    if gid != os.getgid():
        return False
    try:
        import grp
        import pwd

        group = grp.getgrgid(gid)
        me = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return False
    # named after the user (the convention), so that no other user has it as primary group
    return group.gr_name == me and set(group.gr_mem) <= {me}


def untrusted_file(path: str | os.PathLike[str]) -> str | None:
    """Why the file at *path* must not be applied, or ``None`` when it may be."""
    if not hasattr(os, "getuid"):
        return None  # no Unix users (Windows): the folder's ACL decides
    try:
        info = os.stat(path)
        folder_info = os.stat(os.path.dirname(os.path.abspath(path)))
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror}"
    if not _trusted_uid(info.st_uid):
        return f"{path} belongs to uid {info.st_uid}, not to this run's user (uid {os.getuid()}) or root"
    folder = os.path.dirname(os.path.abspath(path))
    if not _trusted_uid(folder_info.st_uid):
        return f"its folder {folder} belongs to uid {folder_info.st_uid}, not to this run's user or root"
    writers = stat.S_IWOTH | (0 if _private_group(folder_info.st_gid) else stat.S_IWGRP)
    if folder_info.st_mode & writers:
        return f"its folder {folder} can be written by other users (mode {stat.filemode(folder_info.st_mode)}; `chmod go-w` it)"
    return None


def untrusted_peer(connection: socket.socket) -> str | None:
    """Why the console client on *connection* must be refused, or ``None``."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None  # no peer credentials here: the socket's owner-only mode is the guard
    try:
        raw = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError as exc:
        return f"cannot read the client's credentials ({exc.strerror})"
    pid, uid, _gid = struct.unpack("3i", raw)
    if not _trusted_uid(uid):
        return f"the client (pid {pid}) runs as uid {uid}, not as this run's user (uid {os.getuid()}) or root"
    return None


def private_dir(path: Path) -> Path:
    """Create *path* (and its parents) and make it owner-only, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, stat.S_IRWXU)
    except OSError:
        pass  # a folder of another user (root's run in a user's output): leave its mode
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` a file that only its owner may read, also when it already existed
    wider (written by an older daifu)."""
    fd = os.open(path, flags | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
    except OSError:
        pass
    return fd


def write_private(target: Path, data: bytes, *, sync: bool = False) -> None:
    """Replace *target* in one step with an owner-only file holding *data* (a reader never
    sees half of it); *sync*: on disk before it replaces the old one (a checkpoint's last good
    version stays until the new one is whole)."""
    tmp = target.with_name(f".{target.name}.partial")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, target)
