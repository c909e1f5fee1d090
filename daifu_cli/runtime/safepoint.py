"""Process checkpoints while the program runs: SIGUSR1 (on demand) and SIGTERM (preemption).

A signal handler runs between bytecodes, possibly in the middle of a statement (inside an
optimizer's update, between two parameters), which is no state to resume from. So the handler
only asks for a *safe point*: the next statement boundary of the innermost vaccinated frame
(a line event of that frame, traced only until then) that ends the step it is in: inside a
loop, when the loop comes back to its header (a loss built by the interrupted step holds an
autograd graph, which no checkpoint can save) or leaves it. There every frame above is at a call in
progress and the innermost at the statement about to run: the same shape as a crash, written
by the same code (``restart.prepare``). SIGUSR1 then goes on running while its checkpoint is
written in the background (:mod:`.background`); SIGTERM writes it and ends the process by the
signal (status 143), as schedulers expect. If no safe point comes within the grace period
(``DAIFU_GRACE``, default 30 s), the process ends without a checkpoint and says so.

The handlers are installed by the shim only where the program left the default action, only
in the process that installed them (a forked DataLoader worker acts as without daifu), and
cost nothing while no signal comes. ``DAIFU_SIGNALS=0`` leaves both signals alone.
"""

from __future__ import annotations

# The C module: ``signal`` imports ``enum``, which may be a vaccinated module being imported
# right now (the standard library vaccinated), and the shim runs at every module's start.
import _signal as signal  # type: ignore[import-not-found]
import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

_installer = 0
_pending: dict[str, Any] | None = None


def install() -> None:
    """Called once by the shim, in the main thread."""
    global _installer
    if os.environ.get("DAIFU_SIGNALS", "1") == "0":
        return
    _installer = os.getpid()
    for name in ("SIGUSR1", "SIGTERM"):
        number = getattr(signal, name, None)
        try:
            if number is not None and signal.getsignal(number) == signal.SIG_DFL:
                signal.signal(number, _on_signal)
        except ValueError:  # not the main thread: signals are not ours to take
            return
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_interrupt)
    except ValueError:
        return


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl+C: a process checkpoint at the next safe point, then the ``KeyboardInterrupt``
    Python would have raised, raised there (the program's own handlers for it run as without
    daifu; uncaught, it ends the process as SIGINT does). A second Ctrl+C before the safe
    point, and any outside the vaccinated code, raise it at once."""
    global _pending
    if os.getpid() != _installer:  # a forked child: as without daifu
        signal.default_int_handler(signum, frame)
    pending = _pending
    if pending is not None and not pending["interrupt"]:  # heading for a SIGUSR1/SIGTERM one
        pending["interrupt"] = True
        return
    if pending is not None:  # the second Ctrl+C: no waiting any more
        pending["target"].f_trace = None
        sys.settrace(None)
        pending["done"].set()
        _pending = None
        print("daifu: SIGINT again: interrupted before the safe point; no checkpoint", file=sys.stderr, flush=True)
        signal.default_int_handler(signum, frame)
    target = _innermost_vaccinated(frame)
    if target is None:
        signal.default_int_handler(signum, frame)
    _arm(target, signum)  # type: ignore[arg-type]  # default_int_handler raised above if None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _installer:  # a forked child: as without daifu
        _default(signum)
        return
    if _pending is not None:  # already heading for a safe point
        if signum == signal.SIGTERM:
            _pending["terminate"] = True
        return
    try:
        target = _innermost_vaccinated(frame)
    except _NotYet:
        _again_soon(signum)
        return
    if target is None:
        if signum == signal.SIGTERM:
            _default(signum)
        else:
            print("daifu: SIGUSR1: no vaccinated function is running; no checkpoint", file=sys.stderr, flush=True)
        return
    _arm(target, signum)


def _default(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class _NotYet(Exception):
    """The signal came while this thread imports daifu's runtime (a survivor's first crash
    loads it; torchrun's agent sends SIGTERM right then): its modules are half initialized."""


def _again_soon(signum: int) -> None:
    """Deliver *signum* again in a moment, once the import it interrupted is done (raising
    from here would fail that import: the crash would pass without daifu)."""
    import threading

    timer = threading.Timer(0.05, os.kill, (os.getpid(), signum))
    timer.daemon = True
    timer.start()


def _innermost_vaccinated(frame: FrameType | None) -> FrameType | None:
    from . import registry

    if not hasattr(registry, "runs_vaccinated"):
        raise _NotYet
    while frame is not None and not registry.runs_vaccinated(frame):
        frame = frame.f_back
    return frame


def _arm(target: FrameType, signum: int) -> None:
    """Trace *target* until its next statement begins."""
    import threading

    global _pending
    grace = float(os.environ.get("DAIFU_GRACE", "30"))
    _pending = {
        "signum": signum, "terminate": signum == signal.SIGTERM, "interrupt": signum == signal.SIGINT,
        "done": threading.Event(), "target": target,
    }

    step = _step_of(target)

    def at_boundary(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and frame is target and (step is None or step(frame.f_lineno)):
            frame.f_trace = None
            sys.settrace(None)
            _checkpoint(frame)
            return None
        return at_boundary

    target.f_trace = at_boundary
    target.f_trace_lines = True
    sys.settrace(lambda *args: None)  # line events flow only while a trace function is set
    threading.Thread(target=_watchdog, args=(_pending, grace), daemon=True, name="daifu-grace").start()


def _step_of(target: FrameType) -> Callable[[int], bool] | None:
    """Which lines of *target* end the step it is in: the header of the innermost loop of that
    frame around its current statement (the step's iteration is done), or any line after the
    loop. ``None`` (any statement boundary will do) outside loops and in resumed code.

    Why not the next statement: between a forward and its ``backward()`` a loss holds an
    autograd graph, which no checkpoint can hold (see :mod:`.autograd`); at a loop's header
    the step that built it is over."""
    import ast

    from . import frames

    try:
        where = frames.locate(Exception(), target)
    except Exception:  # the signal must not fail: fall back to the next boundary
        return None
    if where is None or where.continuation is not None:
        return None
    path = where.path
    for end in range(len(path), 0, -2):  # the statement itself, then its owners, inside out
        stmt = frames.statement_at(where.view.body, path[:end])
        inside = end == len(path) or path[end] == "body"
        if isinstance(stmt.node, (ast.For, ast.While)) and inside and stmt.region is None:
            header, last = stmt.node.lineno, stmt.node.end_lineno or stmt.node.lineno
            scaffolding = {n.lineno for n in stmt.suffix}  # `del` of the saved iterator
            return lambda line: line == header or (not header <= line <= last and line not in scaffolding)
    return None


def _watchdog(pending: dict[str, Any], grace: float) -> None:
    if pending["done"].wait(grace):
        return
    if pending["interrupt"] and not pending["terminate"]:
        print(
            f"daifu: no statement boundary within {grace:.0f} s of SIGINT; interrupting without a checkpoint",
            file=sys.stderr, flush=True,
        )
        os.kill(os.getpid(), signal.SIGINT)  # as a second Ctrl+C: KeyboardInterrupt at once
        return
    if pending["terminate"]:
        print(
            f"daifu: no statement boundary within {grace:.0f} s of SIGTERM (a long call in native "
            "code?); ending without a checkpoint",
            file=sys.stderr, flush=True,
        )
        os._exit(128 + signal.SIGTERM)


def _checkpoint(frame: FrameType) -> None:
    """At a statement boundary of *frame*: write the process checkpoint, then go on (SIGUSR1)
    or end (SIGTERM)."""
    global _pending
    pending = _pending
    assert pending is not None
    import time

    from . import background, restart

    names = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT", getattr(signal, "SIGUSR1", -1): "SIGUSR1"}
    name = names.get(pending["signum"], "signal")
    terminate = pending["terminate"]
    # SIGTERM ends the process and Ctrl+C most likely does: written before going on
    synchronous = terminate or pending["interrupt"]
    label = f"{name.lower()}-{int(time.time())}"
    if synchronous:
        pending["done"].set()  # the boundary came: the grace period is over
        background.wait()  # one being written in the background is finished first
    try:
        if synchronous:
            said = _said(name, restart.prepare_running(frame, label, copy=False).write())
        elif background.busy():
            said = f"daifu: {name}: a checkpoint is still being written; this request is skipped"
        else:  # taken here, written while the program runs on
            background.start(restart.prepare_running(frame, label, copy=True), lambda written: _said(name, written))
            said = ""
    except restart.NotResumable as why:
        said = f"daifu: {name}: no process checkpoint: {why}"
    except Exception as exc:  # the program must go on (or end) as it would without daifu
        said = f"daifu: {name}: could not save a process checkpoint: {type(exc).__name__}: {exc}"
    pending["done"].set()
    _pending = None
    if said:
        print(said, file=sys.stderr, flush=True)
    if terminate:
        from . import config as config_module
        from . import journal

        journal.Journal(config_module.load().home).state("ended", how=f"stopped by {name} at a safe point")
        sys.stderr.flush()
        sys.stdout.flush()
        _default(signal.SIGTERM)
    elif pending["interrupt"]:
        _deliver_interrupt()


def _deliver_interrupt() -> None:
    """Raise Ctrl+C's KeyboardInterrupt into the program's frame at the safe point (raised in
    its trace function, it surfaces there); tracebacks show no frame of daifu's for it
    (``positions.DELIVERS``)."""
    raise KeyboardInterrupt


def _said(name: str, written: Any) -> str:
    path = written.path
    said = f"daifu: {name}: process checkpoint {path}; `daifu resume {path}` continues from here"
    return said + "".join(f"\n  not saved: {item}" for item in written.lost[:8])
