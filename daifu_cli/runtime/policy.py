"""Recover without a human where that is safe, and never intercept protocol exceptions.

* **Protocol exceptions.** Some exceptions are how a method talks to the interpreter:
  ``IndexError``/``KeyError`` from ``__getitem__`` end a loop or report a missing key,
  ``AttributeError`` from ``__getattr__`` or a property means "no such attribute". Inside
  such a method they are never intercepted (a caller's barrier still can).
* **Transient faults.** Exceptions matching a transient rule (by type and message pattern,
  see :mod:`.config`) are retried at the failing statement after a backoff, up to a budget per
  statement; when the budget is spent the program waits for a human.
* **Out of memory.** ``torch.cuda.OutOfMemoryError`` and "out of memory" errors free the
  crashed step's memory (its traceback is dropped first), run ``gc`` and
  ``torch.cuda.empty_cache()``, call the configured hook (which may, say, halve the
  micro-batch in the context), and retry, up to a budget.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
from typing import TYPE_CHECKING, Any

from .protocols import verdict

if TYPE_CHECKING:
    from .session import Decision, Session
#: (site, kind) -> (attempts, time of the last one)
_attempts: dict[tuple[str, str], tuple[int, float]] = {}
_RESET_AFTER = 60.0


def protocol_exception(qualname: str, exc: BaseException) -> str | None:
    return verdict(qualname.rsplit(".", 1)[-1], exc)


def is_out_of_memory(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "OutOfMemoryError" in names:
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _budget(site: str, kind: str, limit: int) -> int | None:
    """The attempt number to make now, or ``None`` when the budget is spent."""
    key = (site, kind)
    count, last = _attempts.get(key, (0, 0.0))
    now = time.monotonic()
    if now - last > _RESET_AFTER:
        count = 0
    if count >= limit:
        return None
    _attempts[key] = (count + 1, now)
    return count + 1


def automatic(session: Session, exc: BaseException) -> Decision | None:
    from .session import Decision

    config = session.config
    if not config.policies:
        return None
    if session.phase == "next" and _finished_generator(session):
        session.say("daifu: the loop's iterator is a generator that raised, so it is finished: "
                    "retrying would end the loop early; waiting for a human instead")
        return None
    if is_out_of_memory(exc):
        attempt = _budget(session.site, "oom", config.oom_retries)
        if attempt is None:
            session.say("daifu: out of memory again at the same statement; waiting for a fix")
            return None
        delay = config.oom_backoff * (2 ** (attempt - 1))
        session.journal.event("policy", policy="oom", attempt=attempt, delay=delay, **session.location)
        session.say(
            f"daifu: out of memory at {_where(session)}; freeing memory and retrying in {delay:.1f}s "
            f"(attempt {attempt}/{config.oom_retries})"
        )
        _run_hook(config.oom_hook, session)
        time.sleep(delay)
        session.fix_landed = time.perf_counter()
        return Decision("resume", free_memory=True, origin="policy")
    for rule in config.transient:
        if rule.applies(exc):
            attempt = _budget(session.site, f"transient:{type(exc).__name__}", config.transient_retries)
            if attempt is None:
                session.say(f"daifu: {type(exc).__name__} keeps happening at {_where(session)}; waiting for a fix")
                return None
            delay = config.transient_backoff * (2 ** (attempt - 1))
            session.journal.event("policy", policy="transient", attempt=attempt, delay=delay, **session.location)
            session.say(
                f"daifu: transient {type(exc).__name__} at {_where(session)}: {exc}; "
                f"retrying in {delay:.2f}s (attempt {attempt}/{config.transient_retries})"
            )
            time.sleep(delay)
            session.fix_landed = time.perf_counter()
            return Decision("resume", origin="policy")
    return None


def _finished_generator(session: Session) -> bool:
    stmt = session.old_view and session.where and session.where.stmt
    name = getattr(stmt, "iterator", None)
    if name is None:
        return False
    try:
        iterator = session.context.get(name)
    except KeyError:
        return False
    return hasattr(iterator, "gi_frame") and iterator.gi_frame is None


def _where(session: Session) -> str:
    return f"{session.location['file']}:{session.location['line']}"


def _run_hook(spec: str | None, session: Session) -> None:
    if not spec:
        return
    module_name, _, function_name = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        function(session.context)
    except Exception as exc:  # a broken hook must not stop recovery
        session.say(f"daifu: the out-of-memory hook {spec} failed: {type(exc).__name__}: {exc}")


def free_memory() -> None:
    """Collect garbage and give cached GPU memory back (torch only if already imported)."""
    gc.collect()
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
        except Exception:
            pass
