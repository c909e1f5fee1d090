"""What happens when a barrier catches an exception: decide, and on a crash hand over.

:func:`crash` is the barrier's entry (through ``__daifu__.crash``). It lets the exception
propagate unless it is a crash: something nothing above would handle, at a statement the
runtime can map. A crash starts a :class:`~daifu_cli.runtime.session.Session` (imported then:
a program whose exceptions are all handled never loads the report, resume and alignment
machinery, about half of the runtime's import time).
"""

from __future__ import annotations

import re
import sys
import threading
from types import FrameType
from typing import Any

from . import config as config_module
from . import frames, handled, layout, policy, registry
from .protocols import MARK as _MARK
from .signals import Restore

_config: config_module.Config | None = None
_lock = threading.RLock()


def settings() -> config_module.Config:
    global _config
    if _config is None:
        _config = config_module.load()
    return _config


_FREE_VARIABLE = re.compile(r"free variable '([^']+)'")


def _as_unbound_local(exc: BaseException, frame: FrameType) -> UnboundLocalError | None:
    """A cell reads the function's variables as closure cells, so reading one before it is
    assigned raises NameError ("free variable"); the original raises UnboundLocalError.
    Return the exception the original would raise, or ``None``."""
    resumed = frame.f_code.co_filename in registry.continuations
    if type(exc) is not NameError or not (frames.is_cell(frame) or resumed):
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or tb.tb_frame is not frame:
        return None  # raised further down, in another function
    found = _FREE_VARIABLE.search(str(exc))
    if found is None:
        return None
    name = found.group(1)
    root = frames.invocation_frames(frame)[-1]
    if resumed:
        record = registry.continuations[frame.f_code.co_filename]
        if name not in record.context.cells:
            return None
    elif name not in root.f_code.co_cellvars:
        return None  # a genuine free variable of the user's function: NameError it is
    if sys.version_info >= (3, 11):
        message = f"cannot access local variable '{name}' where it is not associated with a value"
    else:
        message = f"local variable '{name}' referenced before assignment"
    converted = UnboundLocalError(message)
    if sys.version_info >= (3, 10):
        converted.name = name  # type: ignore[attr-defined]
    return converted


#: Verdicts "handled above" by exception type and stack position: a program that raises and
#: handles the same exception in a loop pays for the analysis once.
_handled: dict[tuple[int, ...], tuple[str, tuple[Any, ...]]] = {}


def _stack_key(exc: BaseException, frame: FrameType) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    """The exception's type and the code and line of each frame from the barrier up, as ids
    (hashing a code object hashes its constants every time, which made a handled exception
    cost three times more under a deep stack), and the objects themselves: the cache holds
    them, so that an id in a cached key always means the same object."""
    line = frames.traceback_entry(exc.__traceback__, frame)[0]
    kind, code = type(exc), frame.f_code
    ids: list[int] = [id(kind), id(code), line]
    held: list[Any] = [kind, code]
    current = frame.f_back
    while current is not None and len(held) < 66:
        code = current.f_code
        ids += (id(code), current.f_lineno)
        held.append(code)
        current = current.f_back
    return tuple(ids), tuple(held)


def mark(exc: BaseException, decision: str) -> None:
    """Remember on the exception that daifu let it pass (it lives as long as the exception)."""
    try:
        setattr(exc, _MARK, decision)
    except (AttributeError, TypeError):
        pass


def crash(exc: BaseException, frame: FrameType) -> Any:
    """Decide about *exc* caught by the barrier running in *frame*; see the module doc.

    Never raises because of daifu itself: an internal error lets the user's exception go on
    exactly as it would without daifu (and is reported once).
    """
    if type(exc) is Restore:  # a new process resuming from a process checkpoint
        from .restart import continue_frame

        return continue_frame(exc, frame)
    unbound = _as_unbound_local(exc, frame)
    if unbound is not None:
        raise unbound.with_traceback(exc.__traceback__) from None
    try:
        config = settings()
        if config.disabled or getattr(exc, _MARK, None) is not None:
            return None
        key, held = _stack_key(exc, frame)
        known = _handled.get(key)
        if known is not None:
            mark(exc, known[0])
            return None
        where: frames.Where | None = None
        unplaced = ""
        try:
            where = frames.place(exc, frame)
        except frames.CannotPlace as why:
            unplaced = str(why)
        if where is not None and isinstance(exc, TypeError) and where.phase == "next":  # maybe an iterator without __iter__
            from .session import adapt_iterator

            adapted = adapt_iterator(exc, where, config)
            if adapted is not None:
                return adapted
        qualname = where.qualname if where is not None else _code_qualname(frames.invocation_frames(frame)[-1])
        reason = policy.protocol_exception(qualname, exc) or handled.handled_above(exc, frame)
        if reason:
            mark(exc, f"passed: {reason}")
            if "`with " not in reason:  # a manager's verdict depends on the instance
                _handled[key] = (f"passed: {reason}", held)
            return None
        if where is None:
            # A crash that nothing handles, in code the runtime cannot map to a statement: it
            # goes on (an enclosing barrier may still place it), but never silently.
            _say_unplaced(exc, frame, qualname, unplaced, config)
            return None
    except Exception as internal:  # pragma: no cover - a daifu bug must not change the program
        _internal_error(internal, exc)
        return None
    with _lock:  # one crash waits at a time; other threads' crashes queue behind it
        try:
            from .session import Session

            session = Session(exc, where, config)
            return session.intercept()
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as internal:  # pragma: no cover
            _internal_error(internal, exc)
            return None


def hold(exc: BaseException, frame: FrameType) -> Any:
    """Another rank of the job crashed and the job channel stopped this one at a statement
    boundary (:class:`~.signals.Hold`): wait there, as at a crash, for the job to go on."""
    try:
        config = settings()
        where = frames.place(exc, frame)
    except Exception as internal:  # pragma: no cover - the boundary was placed before raising
        _internal_error(internal, exc)
        return None
    with _lock:
        try:
            from .session import Session

            return Session(exc, where, config).hold()
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as internal:  # pragma: no cover
            _internal_error(internal, exc)
            return None


def _code_qualname(frame: FrameType) -> str:
    return getattr(frame.f_code, "co_qualname", frame.f_code.co_name)


_UNPLACED = "_daifu_unplaced"


def _say_unplaced(
    exc: BaseException, frame: FrameType, qualname: str, why: str, config: config_module.Config
) -> None:
    """Say once per exception, on stderr and in the log, that a crash could not be placed."""
    try:
        if getattr(exc, _UNPLACED, False):
            return
        setattr(exc, _UNPLACED, True)
    except (AttributeError, TypeError):
        pass
    from . import journal, report

    line = frames.traceback_entry(exc.__traceback__, frame)[0]
    shown, number, _ = report.user_location(frame.f_code.co_filename, line, config.home, code=frame.f_code)
    name = "<module>" if qualname in ("<module>", layout.SCRIPT) else qualname
    journal.Journal(config.home).event(
        "unplaced", exception=type(exc).__name__, message=str(exc)[:500],
        file=shown, line=number, function=name, reason=why,
    )
    if not config.quiet:
        print(
            f"daifu: cannot intercept {type(exc).__name__} in {name}() at {shown}:{number}: {why}; "
            "it propagates to the caller",
            file=sys.stderr,
            flush=True,
        )


def _internal_error(internal: BaseException, exc: BaseException) -> None:
    import traceback

    mark(exc, "passed: daifu internal error")
    print(
        f"daifu: internal error while handling {type(exc).__name__} "
        f"({type(internal).__name__}: {internal}); the exception propagates as without daifu.\n"
        + "".join(traceback.format_exception(type(internal), internal, internal.__traceback__)),
        file=sys.stderr,
        flush=True,
    )
