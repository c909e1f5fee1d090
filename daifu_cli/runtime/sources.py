"""Sources of decisions for a waiting process other than the person at the console: each is
a function the wait loop calls every turn, returning ``(kind, why)`` or ``None``.

Kinds: ``"resume"`` (retry the statement the process waits at) and ``"end"`` (end the process
after its checkpoint). A source registers itself here; the wait loop only knows this module,
so a new source (another rank of the job, a signal) never imports the crash session.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_sources: list[Callable[[], tuple[str, str] | None]] = []


def register(source: Callable[[], tuple[str, str] | None]) -> None:
    if source not in _sources:
        _sources.append(source)


def poll() -> tuple[str, str] | None:
    """The first decision any source has, or ``None``."""
    for source in _sources:
        try:
            decided = source()
        except Exception:  # a broken source must not end the wait
            continue
        if decided is not None:
            return decided
    return None
