"""The values cells return, and the helpers the generated dispatch code calls.

A cell returns ``None`` when its block ran to the end, ``"break"``/``"continue"``, ``(value,)``
for a ``return``, or a :class:`Resumed` once a crash inside it was fixed and the rest of the
block ran as new code. A ``Resumed`` travels up through the cells of the same function; each
caller that receives one hands over to new code too (:func:`leave`, :func:`propagate`), so the
rest of the function runs the fixed version.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Resumed:
    """A cell finished after a fix: its statement *owner* (in the new code) ended with
    *signal*, and the caller must continue with new code after that statement."""

    __slots__ = ("owner", "session", "signal")

    def __init__(self, signal: Any, session: Any, owner: tuple) -> None:
        self.signal = signal
        self.session = session
        self.owner = owner

    def __repr__(self) -> str:
        return f"Resumed({self.signal!r}, owner={self.owner})"


def leave(signal: Any) -> Any:
    """Dispatch in a function's own frame: the value the function returns."""
    if type(signal) is tuple:
        return signal[0]
    if type(signal) is Resumed:
        return signal.session.handover(signal, sys._getframe(1), root=True)
    raise AssertionError(f"daifu: unexpected signal {signal!r}")


def propagate(signal: Any) -> Any:
    """Dispatch in a cell: pass the signal to the caller (after handing over on a resume)."""
    if type(signal) is Resumed:
        return signal.session.handover(signal, sys._getframe(1), root=False)
    return signal


def run_else(signal: Any, cell: Callable[[], Any]) -> Any:
    """The ``else:`` of a ``try`` with ``finally``: runs when the body ended normally."""
    if signal is None:
        return cell()
    if type(signal) is Resumed and signal.signal is None:
        result = cell()
        if type(result) is Resumed:
            return result
        return Resumed(result, signal.session, signal.owner)
    return signal


def run_finally(signal: Any, cell: Callable[[], Any]) -> Any:
    """The ``finally:`` of a ``try``: always runs; keeps the body's signal."""
    result = cell()
    if result is None or type(signal) is Resumed:
        return signal
    if type(result) is Resumed:
        return Resumed(signal, result.session, result.owner)
    return result


def run_script(function: Callable[[], Any]) -> None:
    """Run a module's script function at once, named ``<module>`` in tracebacks."""
    code = function.__code__
    try:
        function.__code__ = code.replace(co_name="<module>")  # type: ignore[call-arg]
    except (TypeError, ValueError):  # pragma: no cover - very old code objects
        pass
    function()
