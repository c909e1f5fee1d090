"""The job channel: the ranks of a torchrun job tell each other of crashes, fixes and ends
through the job's own store (the TCPStore torchrun's agent hosts at ``MASTER_ADDR:MASTER_PORT``).

* A rank that crashes and waits for a fix publishes it (rank, ``file:line``, exception) and
  bumps the job's ``open`` count; when it resumes it takes it back, when it gives up it marks
  the job ended.
* Every rank runs a watcher thread that reads one counter from the store every
  :data:`POLL` seconds. On a crash elsewhere it asks the main thread to *hold*: at the next
  statement boundary of its innermost vaccinated frame, daifu raises :class:`~.signals.Hold`
  there, the frame's barrier intercepts it like a crash at a statement that has not run yet,
  and the rank waits with all its state; when no crashed rank waits any more, it retries that
  statement in the newest code (so a fix of the function it runs reaches it too).
* A rank that is inside a collective runs no bytecode until the collective returns: it holds
  when it comes back (the crashed rank's fix lets the collective complete), or, if the process
  group's timeout comes first, its collective fails: it holds then, and after the fix every
  rank re-creates the process group (:mod:`.regroup`); a shape that cannot be re-created
  leaves the job (see :func:`lost_rank`).

Nothing here imports the crash session: the session calls :func:`crashed`, :func:`resumed`,
:func:`gave_up` and :func:`lost_rank`, and the wait loop asks :func:`poll` (through
:mod:`.sources`) whether the job decided something.
"""

from __future__ import annotations

# The C module: ``signal`` imports ``enum``, which may be a vaccinated module being imported
# right now (the standard library vaccinated), and this runs at a vaccinated module's start.
import _signal  # type: ignore[import-not-found]
import json
import os
import re
import socket
import sys
import threading
import time

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

#: Seconds between two looks at the store: a crash elsewhere is known within about this.
POLL = 0.1
#: How long the first rank to crash still waits for the same crash elsewhere once every other
#: rank's watcher has seen its crash (a rank running the same failing statement crashes within
#: moments of it: its watcher may see the crash first).
SAME_SITE_GRACE = 0.2
#: The signal the watcher uses to run the hold request in the main thread (a real-time one:
#: no program or library we know uses it). Delivered with ``_thread.interrupt_main`` where
#: Python has it (3.10+), which only sets a flag: no system call of the program is interrupted.
HOLD_SIGNAL: int = getattr(_signal, "SIGRTMIN", 34) + 6

_channel: Channel | None = None


class Channel:
    """This rank's connection to the job's store, and what it knows of the other ranks."""

    def __init__(self, rank: int, world: int, host: str, port: int, prefix: str) -> None:
        self.rank, self.world, self.host, self.port, self.prefix = rank, world, host, port, prefix
        self.store: Any = None
        self.lock = threading.Lock()  # one request at a time on the store's connection
        self.connecting = threading.Lock()
        self.tried_at_once = False
        self.seen = 0
        #: Ranks that crashed and wait for a fix (published records), and how the job ended.
        self.crashes: dict[int, dict[str, Any]] = {}
        self.ended: dict[str, Any] | None = None
        self.paused = False
        #: What this process is doing in a session: "crashed", "holding" or None.
        self.role: str | None = None
        self.hold_requested = 0.0
        self.pid = os.getpid()
        #: The crashes this rank's watcher has told the others it saw (``seen/<crash>`` keys).
        self.acknowledged: set[str] = set()
        #: This rank's own open crash: its ``seen/`` key and when it was published (monotonic).
        self.own_crash: tuple[str, float] | None = None

    # -- the store ------------------------------------------------------------------------

    def connect(self) -> bool:
        with self.connecting:  # the watcher, or a crash that needs the store before it looked
            if self.store is not None:
                return True
            return self._connect()

    def _connect(self) -> bool:
        dist = sys.modules.get("torch.distributed")
        if dist is None:
            return False
        import datetime

        try:
            self.store = dist.TCPStore(
                self.host,
                self.port,
                is_master=False,
                timeout=datetime.timedelta(seconds=10),
                wait_for_workers=False,
            )
            self.set(f"rank/{self.rank}", {"pid": os.getpid(), "host": socket.gethostname()})
        except Exception:
            self.store = None
            return False
        return True

    def set(self, key: str, value: Any) -> None:
        with self.lock:
            self.store.set(self.prefix + key, json.dumps(value, default=str))

    def get(self, key: str) -> Any:
        with self.lock:
            if not self.store.check([self.prefix + key]):
                return None
            return json.loads(self.store.get(self.prefix + key))

    def add(self, key: str, amount: int) -> int:
        with self.lock:
            return int(self.store.add(self.prefix + key, amount))

    def changed(self) -> None:
        """Tell the watchers something changed (one counter is all they poll)."""
        self.add("events", 1)

    # -- watching -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the job's state again if its event counter moved."""
        events = self.add("events", 0)
        if events == self.seen:
            return
        self.seen = events
        crashes = {}
        for rank in range(self.world):
            record = self.get(f"crash/{rank}")
            if record is not None and record.get("open"):
                crashes[rank] = record
        self.crashes = crashes
        self.ended = self.get("ended")
        self.paused = bool(crashes) and self.ended is None
        self.acknowledge()

    def acknowledge(self) -> None:
        """Count this rank in for each crash elsewhere it has now seen: the crashed rank waits
        for the others' count only until all have seen it (see :func:`same_site_count`)."""
        for rank, record in self.crashes.items():
            key = seen_key(rank, record)
            if rank != self.rank and key not in self.acknowledged:
                self.acknowledged.add(key)
                self.add(key, 1)

    def others_crashed(self) -> list[dict[str, Any]]:
        return [c for r, c in sorted(self.crashes.items()) if r != self.rank]


def start() -> None:
    """Called once by the shim, in the main thread of a torchrun worker."""
    global _channel
    env = os.environ
    if env.get("DAIFU_JOB", "1") == "0" or _channel is not None:
        return
    try:
        rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
        host, port = env["MASTER_ADDR"], int(env["MASTER_PORT"])
    except (KeyError, ValueError):
        return
    if world < 2:
        return
    prefix = (
        f"daifu/{env.get('TORCHELASTIC_RUN_ID', '')}/{env.get('TORCHELASTIC_RESTART_COUNT', '0')}/"
    )
    _channel = Channel(rank, world, host, port, prefix)
    try:
        if _signal.getsignal(HOLD_SIGNAL) == _signal.SIG_DFL:
            _signal.signal(HOLD_SIGNAL, _on_hold_signal)
    except (ValueError, OSError):  # not the main thread, or no such signal here
        return
    from . import sources

    sources.register(poll)
    threading.Thread(target=_watch, args=(_channel,), name="daifu-job", daemon=True).start()


def _watch(channel: Channel) -> None:
    """Wait until the program set up torch.distributed (importing torch here, beside the main
    thread's own import, could deadlock), connect, then poll the job's event counter."""
    main = threading.main_thread()
    while main.is_alive():
        dist = sys.modules.get("torch.distributed")
        try:
            ready = dist is not None and dist.is_available() and dist.is_initialized()
        except Exception:
            ready = False
        if ready and channel.connect():
            break
        time.sleep(0.2)
    while main.is_alive():
        try:
            channel.refresh()
        except Exception:  # the store went away (the agent ended the job): nothing to watch
            return
        if channel.paused and channel.role is None and channel.others_crashed():
            now = time.monotonic()
            if not channel.hold_requested:
                _run_state(channel, pausing=True)
            if now - channel.hold_requested > 1.0:  # again each second until it holds
                channel.hold_requested = now
                _request_hold()
        elif channel.hold_requested and not channel.paused:
            channel.hold_requested = 0.0
            if (
                channel.role is None and channel.ended is None
            ):  # the pause ended before it could hold
                _run_state(channel, pausing=False)
        time.sleep(POLL)


def _request_hold() -> None:
    try:
        import _thread

        _thread.interrupt_main(HOLD_SIGNAL)  # type: ignore[arg-type,call-arg,unused-ignore]
    except TypeError:  # Python 3.9: no signal argument
        _signal.pthread_kill(threading.main_thread().ident, HOLD_SIGNAL)  # type: ignore[arg-type]


def _run_state(channel: Channel, pausing: bool) -> None:
    """Say in the run file that this rank is asked to hold (it may be inside a collective,
    where it cannot stop until the collective returns), or runs again."""
    from . import config as config_module
    from . import journal

    home = config_module.load().home
    if not pausing:
        journal.Journal(home).state("running", rank=channel.rank, world=channel.world)
        return
    crash = channel.others_crashed()[0]
    fields = {
        "rank": channel.rank,
        "world": channel.world,
        "crashed": crash_text(channel.others_crashed()),
    }
    journal.Journal(home).event("pause", crashed_rank=crash.get("rank"), **fields)
    journal.Journal(home).state("pausing", **fields)


def crash_text(crashes: list[dict[str, Any]]) -> str:
    return (
        "; ".join(
            f"rank {c.get('rank')} crashed at {c.get('file')}:{c.get('line')} ({c.get('exception')})"
            for c in crashes
        )
        or "another rank crashed"
    )


# -- holding at a statement boundary ---------------------------------------------------------

_armed: FrameType | None = None


def _on_hold_signal(signum: int, frame: FrameType | None) -> None:
    channel = _channel
    if (
        channel is None
        or os.getpid() != channel.pid
        or not channel.paused
        or channel.role is not None
    ):
        return
    if _armed is not None:
        return
    from . import registry

    if not hasattr(registry, "runs_vaccinated"):
        return  # the runtime is being imported in this thread: the watcher asks again each second
    while frame is not None and not registry.runs_vaccinated(frame):
        frame = frame.f_back
    if frame is not None:
        _arm(frame)


def _arm(target: FrameType) -> None:
    """Trace *target* until a statement of it begins (outside any ``try`` of its own, whose
    handler could catch what daifu raises there), then raise :class:`Hold` at it."""
    global _armed
    _armed = target

    def at_boundary(frame: FrameType, event: str, arg: Any) -> Any:
        if event != "line" or frame is not target:
            return at_boundary
        channel = _channel
        if channel is None or not channel.paused or channel.role is not None:
            _disarm(frame)  # the pause ended before this rank reached a statement
            return None
        place = _boundary(frame)
        if place is None:
            return at_boundary
        try:  # the watcher reads the store every POLL: the pause may have ended since
            channel.refresh()
        except Exception:
            pass
        _disarm(frame)
        if not channel.paused:  # a rank back from a collective the resumed rank completed
            return None
        from .signals import Hold

        raise Hold(channel.others_crashed())

    target.f_trace = at_boundary
    target.f_trace_lines = True
    sys.settrace(lambda *args: None)  # line events flow only while a trace function is set


def _disarm(frame: FrameType) -> None:
    global _armed
    _armed = None
    frame.f_trace = None
    sys.settrace(None)


def _boundary(frame: FrameType) -> Any:
    """The statement *frame* is about to begin, if its line starts one that no ``try`` of the
    same frame encloses; ``None`` otherwise (wait for the next line)."""
    import ast

    from . import frames

    where = frames.locate(Exception(), frame)
    if where is None:
        return None
    stmt = where.stmt
    starts = {stmt.first_line(), stmt.node.lineno}
    if stmt.hoist is not None:
        starts.add(stmt.hoist.lineno)
    if where.continuation is None and where.line not in starts:
        return None  # the middle of a statement that spans lines
    path = where.path
    while len(path) > 2:
        path = path[:-2]
        parent = frames.statement_at(where.view.body, path)
        if parent.region != stmt.region:
            break
        if isinstance(parent.node, ast.Try) or type(parent.node).__name__ == "TryStar":
            return None
    return where


# -- what the session tells the job ----------------------------------------------------------


def _mine() -> Channel | None:
    """The channel, in the process that opened it (a forked DataLoader worker inherits the
    object and a copy of its connection, which it must never use)."""
    channel = _channel
    if channel is None or channel.pid != os.getpid():
        return None
    if channel.store is None and not channel.tried_at_once and _initialized():
        # A failure right after init_process_group (a collective of the set-up) can come
        # before the watcher's next look (every 0.2 s): connect now, once.
        channel.tried_at_once = True
        channel.connect()
    return channel


def _initialized() -> bool:
    dist = sys.modules.get("torch.distributed")
    try:
        return dist is not None and dist.is_available() and dist.is_initialized()
    except Exception:
        return False


def channel() -> Channel | None:
    """This process's channel (``None`` outside a torchrun job, or in a forked child)."""
    return _mine()


def active() -> bool:
    channel = _mine()
    return channel is not None and channel.store is not None


def rank() -> int | None:
    channel = _mine()
    return channel.rank if channel is not None else None


def describe() -> dict[str, Any]:
    """Fields for the run file: which rank of how many."""
    channel = _mine()
    return {} if channel is None else {"rank": channel.rank, "world": channel.world}


def crashed(location: dict[str, Any], exception: BaseException) -> int:
    """This rank crashed and is about to wait: publish it. Returns this rank's turn among the
    ranks that crashed at the same statement with the same exception type (1: the first,
    which gives the report)."""
    channel = _mine()
    if channel is None or channel.store is None:
        return 1
    channel.role = "crashed"
    _drop_request()
    site = f"{location.get('file')}:{location.get('line')}:{type(exception).__name__}"
    record = {
        "rank": channel.rank,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "open": True,
        "file": location.get("file"),
        "line": location.get("line"),
        "function": location.get("function"),
        "exception": type(exception).__name__,
        "message": str(exception)[:300],
        "since": time.time(),
    }
    try:
        channel.set(f"crash/{channel.rank}", record)
        turn = channel.add(f"site/{_key(site)}", 1)
        channel.own_crash = (seen_key(channel.rank, record), time.monotonic())
        channel.changed()
    except Exception:
        return 1
    return turn


def seen_key(rank: int, record: dict[str, Any]) -> str:
    """The counter of the ranks that have seen this crash record."""
    return f"seen/{rank}/{record.get('since')}"


def same_site_count(location: dict[str, Any], exception: BaseException, within: float) -> int:
    """How many ranks crashed at this statement with this exception type, waiting up to
    *within* seconds from this rank's crash for all of them (ranks crash at a shared step
    within moments), or until every other rank has seen the crash (its watcher counted itself
    in) and :data:`SAME_SITE_GRACE` passed: a rank that saw it and did not crash there by
    then is elsewhere (holding, or inside a collective that waits for this rank)."""
    channel = _mine()
    if channel is None or channel.store is None:
        return 1
    site = f"{location.get('file')}:{location.get('line')}:{type(exception).__name__}"
    key, since = channel.own_crash or ("", time.monotonic())
    deadline = since + within
    all_seen: float | None = None
    count = 1
    while True:
        try:
            count = channel.add(f"site/{_key(site)}", 0)
            if all_seen is None and key and channel.add(key, 0) >= channel.world - 1:
                all_seen = time.monotonic()
        except Exception:
            return count
        now = time.monotonic()
        if count >= channel.world or now >= deadline:
            return count
        if all_seen is not None and now >= all_seen + SAME_SITE_GRACE:
            return count
        time.sleep(min(POLL / 2, max(0.0, deadline - now)))


def holding() -> None:
    channel = _mine()
    if channel is not None:
        channel.role = "holding"
    _drop_request()


def _drop_request() -> None:
    """This rank waits now (held, or crashed itself before it reached the boundary): the
    trace armed for the hold must not outlive it (in the main thread, where it was set)."""
    if _armed is not None:
        _disarm(_armed)


def end_within(seconds: float) -> None:
    """The process is ending (left the job, or ended with it): make sure it does, even if the
    program's clean-up blocks (a collective in a ``finally``, a process group's shutdown)."""
    if _mine() is None:
        return

    def deadline() -> None:
        time.sleep(seconds)
        print(
            f"daifu: the process did not end within {seconds:.0f} s; ending it now",
            file=sys.stderr,
            flush=True,
        )
        os._exit(1)

    threading.Thread(target=deadline, name="daifu-end", daemon=True).start()


def resumed() -> None:
    """This rank's crash or hold is over: it goes on."""
    channel = _mine()
    if channel is None or channel.store is None:
        return
    was, channel.role = channel.role, None
    if was != "crashed":
        return
    try:
        record = channel.get(f"crash/{channel.rank}") or {}
        record["open"] = False
        channel.set(f"crash/{channel.rank}", record)
        _forget_sites(channel, record)
        channel.changed()
    except Exception:
        pass


def _forget_sites(channel: Channel, record: dict[str, Any]) -> None:
    site = f"{record.get('file')}:{record.get('line')}:{record.get('exception')}"
    channel.add(f"site/{_key(site)}", -1)


def gave_up(why: str) -> None:
    """This rank ends while the job is paused: every other rank ends too."""
    channel = _mine()
    if channel is None or channel.store is None:
        return
    channel.role = "ended"  # the watcher no longer speaks for this process
    try:
        if channel.get("ended") is None:
            channel.set("ended", {"rank": channel.rank, "why": why, "since": time.time()})
        channel.changed()
    except Exception:
        pass


def ended_elsewhere() -> str | None:
    """Why another rank ended the job, read from the store now, or ``None``. For a rank that a
    launcher's SIGTERM reaches before its watcher's next look: torchrun's agent stops the
    others once a rank that left the job exits. Bounded: the store's connection may be busy
    (the signal may have come in the middle of a request of this thread's own)."""
    channel = _mine()
    if channel is None or channel.store is None or not channel.lock.acquire(timeout=1.0):
        return None
    try:
        key = channel.prefix + "ended"
        ended = json.loads(channel.store.get(key)) if channel.store.check([key]) else None
    except Exception:
        return None
    finally:
        channel.lock.release()
    if ended is None or ended.get("rank") == channel.rank:
        return None
    return f"rank {ended.get('rank')} {ended.get('why')}"


def poll() -> tuple[str, str] | None:
    """What the job decided for this waiting rank: ``("resume", why)`` for a holding rank when
    no crashed rank waits any more, ``("end", why)`` when another rank ended the job."""
    channel = _mine()
    if channel is None or channel.store is None:
        return None
    ended = channel.ended
    if ended is not None and ended.get("rank") != channel.rank:
        return "end", f"rank {ended.get('rank')} {ended.get('why')}"
    if channel.role == "holding" and not channel.paused:
        return "resume", "the crashed ranks resumed"
    return None


# -- a lost rank -----------------------------------------------------------------------------

#: A peer process of the collective is gone: gloo's socket errors, NCCL's remote errors.
_PEER_GONE = re.compile(
    r"Connection (reset|closed) by peer|Broken pipe|ncclRemoteError|remote process exited|"
    r"NCCL communicator was aborted|Timed out waiting .* for (recv|send)|[Tt]imeout.*(gloo|collective|Watchdog)"
)


def lost_rank(exc: BaseException) -> str | None:
    """Why *exc*, raised by the process group of a distributed job, means this rank cannot go
    on in the job (another rank is gone, or a collective failed: no retry on one rank can
    help, every collective needs all of them), or ``None``."""
    if sys.modules.get("torch.distributed") is None:
        return None
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc)
    # Also while init_process_group sets the group up: retried on one rank, its rendezvous
    # would wait for keys the other ranks never write.
    distributed = (
        bool(names & {"DistBackendError", "DistNetworkError"})
        or "gloo" in text.lower()
        or "NCCL" in text
    )
    if not distributed:
        return None
    if _PEER_GONE.search(text) is None and "DistBackendError" not in names:
        # Another failure of the process group (a connection refused while it sets up): a
        # retry on this rank alone would run a collective the others do not, and hang.
        return f"a collective failed ({_first_line(text)}); retried on one rank alone it would hang"
    channel = _mine()
    if channel is not None and channel.store is not None:
        try:
            channel.refresh()
        except Exception:
            pass
        ended = channel.ended
        if ended is not None and ended.get("rank") != channel.rank:
            return f"rank {ended.get('rank')} {ended.get('why')}"
        if channel.paused and ("imed out" in text or "imeout" in text):
            crash = channel.others_crashed()[:1]
            who = f"rank {crash[0].get('rank')}" if crash else "another rank"
            return (
                f"its collective timed out while {who} waited for a fix (the process group's timeout: "
                "a rank inside a collective cannot be held longer on gloo)"
            )
    gone = _gone_ranks(channel)
    who = ", ".join(f"rank {r}" for r in gone) if gone else "a peer rank"
    return f"{who} {'were' if len(gone) > 1 else 'was'} lost ({_first_line(text)})"


def _gone_ranks(channel: Channel | None) -> list[int]:
    """The ranks whose processes are gone, among those of this host (others cannot be told)."""
    if channel is None or channel.store is None:
        return []
    gone: list[int] = []
    here = socket.gethostname()
    for rank in range(channel.world):
        if rank == channel.rank:
            continue
        try:
            info = channel.get(f"rank/{rank}")
        except Exception:
            return gone
        if info is None or info.get("host") != here:
            continue
        if not _alive(int(info.get("pid", 0))):
            gone.append(rank)
    if not gone and channel.world == 2:
        gone.append(1 - channel.rank)  # the only peer there is
    return gone


def _alive(pid: int) -> bool:
    """Whether *pid* runs (a killed worker stays a zombie until its launcher reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub(r"^\[[^\]]*\]\s*", "", line)  # gloo's [path/to/pair.cc:537] prefix
    return line.split(". ", 1)[0][:200]  # gloo goes on with advice ("This is typically ...")


def _key(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
