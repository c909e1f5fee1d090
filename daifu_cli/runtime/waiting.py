"""Wait for a fix: watch the patch folder and the running modules' files, serve consoles.

One loop in the crashed thread, built on ``select``:

* the terminal, when stdin is one: the console prompt (:mod:`.console`);
* a Unix socket (owner-only, ``.daifu/run/<pid>.sock``) for ``daifu attach``;
* the files: the vaccinated modules this process runs (a fix re-vaccinated by ``daifu
  patch`` or edited in place) and action snippets dropped into ``.daifu/patches/``. A file is
  applied only once it is complete: replaced atomically (a new inode, as ``daifu patch`` and
  most editors write), or not modified for ``settle`` seconds (20 ms; editors that write in
  place do it in several steps). While ``daifu patch`` writes several files it holds
  ``patches/.pending`` so they apply together. ``watchfiles``, when installed, wakes the loop
  as soon as something changes in a watched folder; without it, and while a changed file is
  settling, the loop polls (a few ``stat`` calls every 10 ms, only while waiting).

A broken fix (syntax error, a snippet that raises) is reported and the loop keeps waiting with
the state intact.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import align, patching, registry, sources, trust
from .console import HELP, Console
from .signals import Stopped

if TYPE_CHECKING:
    from .session import Decision, Session

PROMPT = "(daifu) "
END = "\x00"  # marks the end of a reply on the attach socket


#: SIGTERMs that ended the wait, in case the exception their handler raised was dropped.
_stop_requested: list[int] = []

#: Seconds of fast polling at the start of a wait (see :meth:`_Loop.run`).
_WATCH_WARMUP = 1.0


def wait_for_fix(session: Session) -> Decision:
    from .session import Decision

    loop = None
    try:
        with _stop_signals(session):  # before the run file says "waiting"
            loop = _Loop(session)
            return loop.run()
    except Stopped as stop:
        if stop.signum == signal.SIGINT:
            return Decision("raise", origin="interrupt")
        session.terminated(stop.signum)  # does not return
        raise  # pragma: no cover
    finally:
        if loop is not None:
            loop.close()


@contextlib.contextmanager
def _stop_signals(session: Session) -> Iterator[None]:
    """While waiting, SIGTERM (a scheduler's preemption) and SIGINT (Ctrl+C) end the wait
    with a word, instead of a silent death or a traceback through daifu's own modules, and
    SIGUSR1 writes a process checkpoint of the state as it is now (there is no statement to
    reach: the program waits). A handler the program installed itself stays in charge (daifu's
    own running-time handlers are replaced); only the main thread gets signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from . import safepoint

    def stop(signum: int, _frame: Any) -> None:
        # SIGTERM is also noted: a handler that runs inside a finalizer or a weakref callback
        # (the collector's) has its exception printed and dropped ("Exception ignored in"), and
        # the wait went on until killed. The loop raises it again at its next turn. (Not
        # Ctrl+C: a snippet or console command it interrupts takes it, and the wait goes on.)
        if signum == signal.SIGTERM:
            _stop_requested.append(signum)
        raise Stopped(signum, terminate=signum == signal.SIGTERM)

    def checkpoint(signum: int, _frame: Any) -> None:
        session.process_checkpoint()
        saved = getattr(session, "process_saved", None)
        if saved is not None:
            session.say(f"daifu: SIGUSR1: process checkpoint {saved[0]}; still waiting")

    _stop_requested.clear()
    previous: dict[int, Any] = {}
    ours = (signal.SIG_DFL, signal.default_int_handler, safepoint._on_signal, safepoint._on_interrupt)
    wanted: list[tuple[int, Any]] = [(signal.SIGTERM, stop), (signal.SIGINT, stop)]
    if hasattr(signal, "SIGUSR1"):
        wanted.append((signal.SIGUSR1, checkpoint))
    for signum, handler in wanted:
        current = signal.getsignal(signum)
        if current in ours:
            previous[signum] = current
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Loop:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.config = session.config
        self.console = Console(session)
        self.tty = _use_tty(self.config.console)
        # The patch folder is made owner-only before the run file says "waiting".
        self.watcher = _Watcher(self.config.home / "patches", self.config.settle)
        self.server = _listen(session)
        self.clients: dict[socket.socket, bytes] = {}
        status, fields = session.wait_state()
        session.journal.state(status, socket=self.server.getsockname() if self.server is not None else None, **fields)
        self.wake_read, self.notifier = _notifier(self.watcher.paths())

    def run(self) -> Decision:
        from .session import Decision

        deadline = None if self.config.max_wait is None else time.monotonic() + self.config.max_wait
        if self.tty:
            self._write_tty(f"(type `help` for commands)\n{PROMPT}")
        # The watch thread needs a moment to set up its watches (the first wait of the
        # process starts it): a fix saved within that moment raises no event, so poll at
        # the fast interval until the watches surely stand.
        warm_until = time.monotonic() + _WATCH_WARMUP
        while True:
            if _stop_requested:
                signum = _stop_requested[-1]
                raise Stopped(signum, terminate=signum == signal.SIGTERM)
            settling = bool(_first_seen) or bool(self.watcher.pending) or time.monotonic() < warm_until
            timeout = self.config.poll_interval if self.notifier is None or settling else 0.25
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Decision("raise", origin="max-wait")
                timeout = min(timeout, remaining)
            readers: list[Any] = [self.wake_read, *self.clients]
            if self.server is not None:
                readers.append(self.server)
            if self.tty:
                readers.append(sys.stdin)
            try:
                ready, _, _ = select.select(readers, [], [], timeout)
            except InterruptedError:
                continue
            for item in ready:
                decision = self._handle(item)
                if decision is not None:
                    return decision
            decision = self._check_files()
            if decision is not None:
                return decision

    # -- consoles -------------------------------------------------------------------------

    def _handle(self, item: Any) -> Decision | None:
        if item == self.wake_read:
            try:
                os.read(self.wake_read, 4096)
            except BlockingIOError:
                pass
            return None
        if item is self.server:
            connection, _ = self.server.accept()  # type: ignore[union-attr]
            refused = trust.untrusted_peer(connection)
            if refused is not None:
                self.session.say(f"daifu: console refused: {refused}")
                self.session.journal.event("attach", ok=False, error=refused)
                self._send(connection, f"daifu: refused: {refused}\n", final=True)
                connection.close()
                return None
            self.clients[connection] = b""
            intro = "\n".join(self.session.report_lines()) + "\n\n" + HELP + "\n"
            self._send(connection, intro)
            return None
        if item is sys.stdin:
            line = sys.stdin.readline()
            if not line:  # end of input: stop reading the terminal, keep waiting
                self.tty = False
                return None
            output, decision = self.console.execute(line)
            if output:
                self._write_tty(output + "\n")
            if decision is None or decision == "detach":
                self._write_tty(PROMPT)
                return None
            return decision  # type: ignore[return-value]
        return self._client(item)

    def _client(self, connection: socket.socket) -> Decision | None:
        try:
            data = connection.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(connection)
            return None
        buffer = self.clients[connection] + data
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            output, decision = self.console.execute(raw.decode("utf-8", "replace"))
            if decision == "detach":
                self._send(connection, output + "\n", final=True)
                self._drop(connection)
                return None
            if decision is not None:
                self._send(connection, output + "\n", final=True)
                for other in list(self.clients):
                    self._drop(other)
                return decision  # type: ignore[return-value]
            self._send(connection, output + "\n")
        if connection in self.clients:
            self.clients[connection] = buffer
        return None

    def _send(self, connection: socket.socket, text: str, final: bool = False) -> None:
        try:
            connection.sendall((text + ("" if final else PROMPT) + END).encode("utf-8"))
        except OSError:
            self._drop(connection)

    def _drop(self, connection: socket.socket) -> None:
        self.clients.pop(connection, None)
        try:
            connection.close()
        except OSError:
            pass

    def _write_tty(self, text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    # -- files ----------------------------------------------------------------------------

    def _check_files(self) -> Decision | None:
        message, decision = check_code(self.session)
        if message:
            self.session.say(message)
        if self.session.holding:
            # A holding rank takes the new code (the frame it holds in resumes in it) but goes
            # on only with the job; snippets are for the crashed function's variables.
            self.watcher.ready_snippets()
            return self._job_decision()
        if decision is not None:
            return decision
        for path in self.watcher.ready_snippets():
            decision = self._snippet(path)
            if decision is not None:
                return decision
        return self._job_decision()

    def _job_decision(self) -> Decision | None:
        """What another source (the job's other ranks) decided for this wait."""
        from .session import Decision

        decided = sources.poll()
        if decided is None:
            return None
        kind, why = decided
        session = self.session
        if kind == "end":
            session.job_ended = why
            session.say(f"daifu: {why}; this rank ends too{session._checkpoint_note()}")
            session.journal.event("job-end", reason=why)
            return Decision("exit", exit_code=1, origin="job")
        session.fix_landed = time.perf_counter()
        try:
            if session.built is None:
                session.prepare()
        except align.CannotMap as exc:
            session.say(f"daifu: cannot resume here: {exc}; still waiting")
            return None
        return Decision("resume", origin="job")

    def _snippet(self, path: Path) -> Decision | None:
        from .session import Decision

        session = self.session
        landed = time.perf_counter()
        refused = trust.untrusted_file(path)
        if refused is not None:
            session.say(f"daifu: action snippet {path.name} refused: {refused}; still waiting")
            session.journal.event("action", file=path.name, ok=False, error=f"refused: {refused}")
            return None
        try:
            text = path.read_text(encoding="utf-8")
            session.touched()  # even one that raises may have changed objects
            action, changed = patching.run_snippet(str(path), text, session.context)
        except (OSError, patching.PatchError) as exc:
            session.say(f"daifu: action snippet not applied: {exc}; still waiting")
            session.journal.event("action", file=path.name, ok=False, error=str(exc))
            return None
        session.journal.event("action", file=path.name, ok=True, changed=changed, action=action)
        session.say(
            f"daifu: applied action snippet {path.name}"
            + (f" (changed: {', '.join(changed)})" if changed else "")
        )
        session.fix_landed = landed
        if action == "raise":
            return Decision("raise", origin="snippet")
        kind = "skip" if action == "skip" else "resume"
        try:
            session.prepare(skip=kind == "skip")
        except align.CannotMap as exc:
            session.journal.event("cannot-resume", reason=str(exc), origin="snippet")
            session.say(f"daifu: cannot resume here: {exc}; still waiting")
            return None
        return Decision(kind, origin="snippet")

    def close(self) -> None:
        for connection in list(self.clients):
            self._drop(connection)
        if self.server is not None:
            path = self.server.getsockname()
            self.server.close()
            try:
                os.unlink(path)
            except OSError:
                pass


def check_code(session: Session, force: bool = False) -> tuple[str, Decision | None]:
    """Apply changed vaccinated files, if any are complete; resume if the crashed module
    changed. Returns a message and the decision (``None``: keep waiting)."""
    from .session import Decision

    home = session.config.home
    if (home / "patches" / ".pending").exists() and not force:
        return "", None
    records = list(registry.modules.values())
    settle = session.config.settle
    states = {r.path: _settled(r, settle) for r in records} if not force else {r.path: True for r in records}
    if not force and any(state is None for state in states.values()):
        return "", None  # some file is still being written: apply the fix as a whole later
    changes = []
    for record in records:
        if not states[record.path]:
            continue
        refused = trust.untrusted_file(record.path)
        if refused is not None:
            _mark_seen(record)
            session.journal.event("patch", module=record.name, ok=False, error=f"refused: {refused}")
            return f"daifu: fix of {record.name} refused: {refused}; still waiting", None
        try:
            change = patching.read_change(record)
        except patching.PatchError as exc:
            _mark_seen(record)
            session.journal.event("patch", module=record.name, ok=False, error=str(exc))
            return f"daifu: fix not applied: {exc}; still waiting", None
        _mark_seen(record)
        if change is not None:
            changes.append(change)
    if not changes:
        return "", None
    landed = time.perf_counter()
    lines = []
    crashed_changed = False
    for change in changes:
        applied = patching.apply_change(change)
        session.journal.event(
            "patch", module=applied.module, ok=True, swapped=applied.swapped, added=applied.added
        )
        what = ", ".join(applied.swapped + applied.added + applied.replaced)
        if not what:
            crashed_script = change.record is session.module and session.script
            what = "its script-level code" if crashed_script else "no function changed"
        lines.append(f"daifu: applied new code of {applied.module}: {what}")
        lines.extend(f"daifu: note: {note}" for note in applied.ignored)
        crashed_changed |= change.record is session.module
    if crashed_changed:
        try:
            session.switch_code()
            session.prepare()
        except align.CannotMap as exc:
            session.journal.event("cannot-resume", reason=str(exc), origin="patch")
            lines.append(
                f"daifu: cannot resume {session.qualname}() in the new code: {exc}. "
                "`retry` resumes it with the code it was running; `raise` gives up"
            )
            session.keep_running_code()
            return "\n".join(lines), None
    else:
        session.prepare()
    session.fix_landed = landed
    return "\n".join(lines), Decision("resume", origin="patch")


#: A file's version: (mtime in ns, size, inode).
Signature = tuple[int, int, int]

_seen: dict[str, Signature] = {}
_first_seen: dict[str, tuple[Signature, float]] = {}


def _signature(path: str) -> Signature | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _quiet_for(signature: Signature, settle: float) -> bool:
    """Whether the file was last modified at least *settle* seconds ago."""
    return time.time() - signature[0] / 1e9 >= settle


def _settled(record: registry.ModuleRecord, settle: float = 0.02) -> bool | None:
    """``True`` if the module's file changed and is complete, ``None`` if it may still be
    being written, ``False`` if it did not change."""
    signature = _signature(record.path)
    if signature is None:
        return False
    if record.path not in _seen:
        _seen[record.path] = signature  # first look: the file as it was when the crash began
        return _changed_since_import(record)
    seen = _seen[record.path]
    if signature == seen:
        return False
    if signature[2] != seen[2] or _quiet_for(signature, settle):
        # A new inode: the file was replaced by a rename, which lands it whole.
        _first_seen.pop(record.path, None)
        return True
    previous = _first_seen.get(record.path)
    now = time.monotonic()
    if previous is None or previous[0] != signature:
        _first_seen[record.path] = (signature, now)
        return None
    return True if now - previous[1] >= settle else None


def _changed_since_import(record: registry.ModuleRecord) -> bool:
    try:
        return registry.read_source(record.path) != record.source
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False


def _mark_seen(record: registry.ModuleRecord) -> None:
    signature = _signature(record.path)
    if signature is not None:
        _seen[record.path] = signature
    _first_seen.pop(record.path, None)


class _Watcher:
    """Action snippets in the patch folder, handed out once each has settled.

    Snippets stay where they are: every waiting process of a run (all ranks of a torchrun
    job) applies each snippet once. A snippet saved before this process started waiting was
    meant for an earlier crash and is not applied; saving it again applies it again.
    """

    def __init__(self, folder: Path, settle: float) -> None:
        self.folder = folder
        self.settle = settle
        self.since = time.time() - 0.5
        self.pending: dict[Path, tuple[Signature, float]] = {}
        trust.private_dir(folder)

    def paths(self) -> list[str]:
        """Folders to watch: the patch folder and the modules' folders (a file replaced by a
        rename is a new file, which a watch on the old one would not see)."""
        folders = {str(self.folder)}
        folders.update(os.path.dirname(os.path.abspath(r.path)) for r in registry.modules.values())
        return sorted(folders)

    def ready_snippets(self) -> list[Path]:
        ready = []
        now = time.monotonic()
        try:
            entries = sorted(self.folder.glob("*.py"))
        except OSError:
            return []
        for path in entries:
            signature = _signature(str(path))
            if signature is None or signature[0] / 1e9 < self.since:
                continue
            if _applied.get(path) == signature:
                continue
            known = self.pending.get(path)
            unchanged = known is not None and known[0] == signature
            if not (_quiet_for(signature, self.settle) or (unchanged and now - known[1] >= self.settle)):  # type: ignore[index]
                if not unchanged:
                    self.pending[path] = (signature, now)
                continue
            ready.append(path)
            _applied[path] = signature
            self.pending.pop(path, None)
        return ready


#: Snippets this process has applied, with the version (mtime, size) it applied.
_applied: dict[Path, Signature] = {}


def _use_tty(setting: str) -> bool:
    if setting == "off":
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty() and (setting in ("auto", "on"))
    except (AttributeError, ValueError):
        return False


def _listen(session: Session) -> socket.socket | None:
    """An owner-only Unix socket for ``daifu attach`` (no TCP)."""
    if not hasattr(socket, "AF_UNIX"):
        return None
    run = session.config.home / "run"
    path = run / f"{os.getpid()}.sock"
    if len(str(path)) > 100:  # Unix socket paths are short; fall back to a private temp dir
        run = Path(tempfile.gettempdir()) / f"daifu-{os.getuid()}"
        path = run / f"{os.getpid()}.sock"
    try:
        run.mkdir(parents=True, exist_ok=True)
        os.chmod(run, stat.S_IRWXU)
        if path.exists():
            path.unlink()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            server.bind(str(path))
        finally:
            os.umask(old_umask)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        server.listen(4)
    except OSError:
        return None
    return server


_wake: tuple[int, int] | None = None
_notifier_thread: threading.Thread | None = None


def _notifier(paths: list[str]) -> tuple[int, threading.Thread | None]:
    """A pipe that wakes the wait loop, fed by a watchfiles thread when watchfiles is
    installed. Both live as long as the process, so a late write never hits a closed pipe."""
    global _wake, _notifier_thread
    if _wake is None:
        _wake = os.pipe()
        os.set_blocking(_wake[0], False)
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            return _wake[0], None
        existing = [p for p in paths if os.path.exists(p)]
        write = _wake[1]

        def watch() -> None:
            import watchfiles

            try:
                changes = watchfiles.watch(
                    *existing, debounce=5, step=5, rust_timeout=1000, yield_on_timeout=False,
                    recursive=False,  # the folders themselves: a project's data can be huge
                )
                for _ in changes:
                    os.write(write, b"x")
            except Exception:
                return

        _notifier_thread = threading.Thread(target=watch, name="daifu-watch", daemon=True)
        _notifier_thread.start()
    return _wake[0], _notifier_thread
