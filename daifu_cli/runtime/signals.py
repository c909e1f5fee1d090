"""The values cells return, and the helpers the generated dispatch code calls.

A cell returns ``None`` when its block ran to the end, ``"break"``/``"continue"``, ``(value,)``
for a ``return``, or a :class:`Resumed` once a crash inside it was fixed and the rest of the
block ran as new code. A ``Resumed`` travels up through the cells of the same function; each
caller that receives one hands over to new code too (:func:`leave`, :func:`propagate`), so the
rest of the function runs the fixed version.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Restore(BaseException):
    """Raised at the first statement of a function that a new process restores from a
    process checkpoint (see ``restart``); its own crash barrier hands it to the runtime. Not an
    ``Exception``: a program's ``except Exception`` must let it pass (see ``restart._armed``)."""

    def __init__(self, entry: dict) -> None:
        super().__init__(entry.get("qualname"))
        self.entry = entry


class Hold(BaseException):
    """Raised by the job channel (``job``) at a statement boundary of a rank's innermost
    vaccinated frame when another rank of the job crashed: the frame's barrier intercepts it
    as a crash at a statement that has not run yet, and the rank waits for the fix. A
    ``BaseException``, so a program's ``except Exception`` never takes it."""

    def __init__(self, crashes: list) -> None:
        super().__init__(crashes)
        self.crashes = crashes


class Stopped(BaseException):
    """SIGTERM or SIGINT while waiting for a fix, raised by the wait's handlers (``waiting``)
    wherever the waiting thread is. Action snippets and console commands report every
    exception they raise as theirs and the wait goes on; SIGTERM's (*terminate*) they let pass,
    so that it acts as it does anywhere else in the wait (a checkpoint if the state changed,
    then death by the signal). Ctrl+C's interrupts the command or snippet only."""

    def __init__(self, signum: int, terminate: bool) -> None:
        super().__init__(signum)
        self.signum = signum
        self.terminate = terminate

    def __str__(self) -> str:
        return "interrupted by SIGTERM" if self.terminate else "interrupted by Ctrl+C (SIGINT)"


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


#: Cell code objects renamed after their function -> the cell's own name.
CELL_CODES: dict[Any, str] = {}
_renamed: dict[Any, Any] = {}


def cells(function: Any) -> Any:
    """Decorator of vaccinated functions that have cells: the cells' code is renamed after
    the function (so logging's ``funcName``, tracebacks and ``inspect`` show the user's name)
    and what they define gets the ``__qualname__`` it has in the original."""
    code = function.__code__
    renamed = _renamed.get(code)
    if renamed is None:
        renamed = _renamed[code] = named(code, function.__name__, function.__qualname__, rename_self=False)
    function.__code__ = renamed
    return function


def named(
    code: Any, name: str, qualname: str, cell: str | None = None, *, compiled: str | None = None,
    rename_self: bool = True,
) -> Any:
    """*code* as if it were the user's function *qualname*: its cells are renamed after it
    (and registered in :data:`CELL_CODES`), and the qualnames the compiler gave the
    functions and classes it defines lose daifu's nesting. *compiled* is the qualname the
    compiler gave *code* (default: *qualname*); *cell* registers *code* itself as that cell."""
    compiled = compiled or getattr(code, "co_qualname", None) or qualname
    user_prefix = "" if qualname == "<module>" else f"{qualname}.<locals>."
    prefixes = [(f"{compiled}.<locals>.", user_prefix)]
    result = _requalify(code, prefixes, name, qualname, compiled)
    if rename_self:
        changes: dict[str, Any] = {"co_name": name}
        if hasattr(result, "co_qualname"):
            changes["co_qualname"] = qualname
        result = result.replace(**changes)
    if cell is not None:
        CELL_CODES[result] = cell
    return result


def _requalify(
    code: Any, prefixes: list[tuple[str, str]], name: str, qualname: str, compiled: str, own: bool = True
) -> Any:
    """Rewrite qualname prefixes throughout *code*; rename *code*'s own cells (*own*): cells
    of functions defined inside it are renamed when those functions are defined."""
    consts = []
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            if own and const.co_name.startswith("_daifu_") and const.co_name not in ("_daifu_cells", "_daifu_factory"):
                cell_prefix = (f"{compiled}.<locals>.{const.co_name}.<locals>.", prefixes[0][1])
                renamed = _requalify(const, [cell_prefix, *prefixes], name, qualname, compiled)
                changes: dict[str, Any] = {"co_name": name}
                if hasattr(renamed, "co_qualname"):
                    changes["co_qualname"] = qualname
                renamed = renamed.replace(**changes)
                CELL_CODES[renamed] = const.co_name
                const = renamed
            else:
                const = _requalify(const, prefixes, name, qualname, compiled, own=False)
                inner = getattr(const, "co_qualname", None)
                if inner is not None:
                    const = const.replace(co_qualname=_strip(inner, prefixes))
        elif isinstance(const, str):
            const = _strip(const, prefixes)
        consts.append(const)
    return code.replace(co_consts=tuple(consts))


def _strip(text: str, prefixes: list[tuple[str, str]]) -> str:
    for old, new in prefixes:
        if text.startswith(old):
            return new + text[len(old) :]
    return text


def run_script(function: Callable[[], Any]) -> None:
    """Run a module's script function at once, named ``<module>`` in tracebacks (what it
    defines keeps the qualnames it has at module level)."""
    function.__code__ = named(function.__code__, "<module>", "<module>", compiled=function.__qualname__)
    function()
