"""Resuming a new process inside a ``with`` or a ``try ... finally``: which blocks to enter again.

In the process that stopped, the saved statement ran inside blocks that live in cells: the
body of a ``with`` (its manager entered) or of a ``try`` with a ``finally`` (the ``finally``
pending). A new process has no such manager and no pending ``finally``; what it can do is
*enter* those statements again at the saved statement, as after a fix that wraps the running
statements in a new ``with`` or ``try`` (:mod:`.wrapping`, :func:`resume.build`): the ``with``
evaluates its expression and enters the manager it gives; the ``try``'s handlers cover what
runs from there, and its ``finally`` runs when the resumed body ends.

Entering a manager again is right only when entering it in the new process gives the state
the running block had. That holds for managers that set a mode for the block and keep no
state of the run (daifu knows them by identity, after the program's set-up imported them):

* ``torch.no_grad``, ``enable_grad``, ``inference_mode``, ``set_grad_enabled``, ``autocast``
  (also ``torch.amp``, ``torch.cpu.amp`` and ``torch.cuda.amp``'s): thread-local flags, set on
  entry and put back on exit;
* ``contextlib.nullcontext`` and ``contextlib.suppress``: nothing happens on entry;
* ``open(path, mode)`` with a constant append mode (``"a"``, ``"ab"``, ``"a+"``): appended
  writes go to the end of the file whatever happened before, and a process checkpoint flushes
  the open files of the saved frames, so what the old process wrote is in the file.

Everything else is refused, naming the statement: ``open`` for writing (``"w"`` empties the
file the old process wrote) or reading (it would read from the start again), an RNG fork
(``torch.random.fork_rng`` restores on exit the state it saved on entry), locks, profilers,
and a program's own manager classes (daifu cannot tell what their ``__enter__`` does twice).

Of a ``try ... finally``, only the body is entered again: inside an ``except``, ``else`` or
``finally`` part the pending outcome of the body (the exception being handled, a ``return``
value) is not in the checkpoint.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import sys
from dataclasses import replace
from typing import Any

from . import logical, wrapping
from .align import Position
from .frames import statement_at

#: torch's managers that only set thread-local modes for their block (dotted from ``torch``).
_TORCH_MODES = (
    "no_grad",
    "enable_grad",
    "inference_mode",
    "set_grad_enabled",
    "autocast",
    "amp.autocast",
    "cpu.amp.autocast",
    "cuda.amp.autocast",
)


class CannotEnter(Exception):
    """A block around the saved statement cannot be entered again in a new process."""


def enter_blocks(
    view: logical.Function, position: Position, names: dict[str, Any], namespace: dict[str, Any]
) -> Position:
    """*position* with every cell block around it entered again (see the module doc); raises
    :class:`CannotEnter` with the reason. *names* are the saved variables of the frame,
    *namespace* its module's globals (after the set-up ran)."""
    entered = list(position.entered)
    path = position.block
    for depth in range(0, len(path), 2):
        owner_path, name = path[: depth + 1], path[depth + 1]
        owner = statement_at(view.body, owner_path)
        if name not in owner.cells or owner_path in entered:
            continue
        what = f"`{wrapping.header(owner)}` (line {owner.node.lineno} of the vaccinated file)"
        if isinstance(owner.node, ast.With):
            for item in owner.node.items:
                refused = _refused_manager(item.context_expr, names, namespace)
                if refused is not None:
                    raise CannotEnter(f"it stopped inside {what}, whose manager {refused}")
        elif name != "body":
            part = {"orelse": "else", "finalbody": "finally"}.get(name, "except")
            raise CannotEnter(
                f"it stopped inside the `{part}` part of {what}; what the `try` body ended with "
                "(an exception being handled, a return) is not in the checkpoint"
            )
        entered.append(owner_path)
    if len(entered) == len(position.entered):
        return position
    position = replace(position, entered=tuple(entered))
    for owner_path in entered:
        clash = wrapping.set_before_entry(view, owner_path, position)
        if clash:
            owner = statement_at(view.body, owner_path)
            raise CannotEnter(
                f"it stopped inside `{wrapping.header(owner)}`, and statements inside it that already ran "
                f"set {', '.join(clash)}: entering it again would not give the manager it had"
            )
    return position


def _refused_manager(
    expr: ast.expr, names: dict[str, Any], namespace: dict[str, Any]
) -> str | None:
    """Why the manager *expr* gives cannot be entered again (``None``: it can)."""
    text = ast.unparse(expr)
    if isinstance(expr, ast.Call):
        factory = _resolve(expr.func, names, namespace)
        if factory is builtins.open or factory is io.open:
            mode = _open_mode(expr)
            if mode is not None and "a" in mode:
                return None
            return (
                f"`{text}` opens a file in mode {mode!r}: only append mode is entered again "
                "(writing empties the file the stopped process wrote, reading starts over)"
            )
        if factory is not None and any(factory is safe for safe in _mode_managers()):
            return None
    else:
        value = _resolve(expr, names, namespace)
        kinds = tuple(m for m in _mode_managers() if isinstance(m, type))
        if value is not None and isinstance(value, kinds):
            return None
    return (
        f"`{text}` is not one daifu knows to be safe to enter again in a new process (its "
        "__enter__ ran in the stopped one); known: torch's grad and autocast modes, "
        "contextlib.nullcontext and suppress, open(..., 'a')"
    )


def _mode_managers() -> list[Any]:
    found: list[Any] = [contextlib.nullcontext, contextlib.suppress]
    torch = sys.modules.get("torch")
    for dotted in _TORCH_MODES if torch is not None else ():
        value: Any = torch
        for part in dotted.split("."):
            value = getattr(value, part, None)
        if value is not None:
            found.append(value)
    return found


def _resolve(expr: ast.expr, names: dict[str, Any], namespace: dict[str, Any]) -> Any:
    """The object a dotted name stands for, or ``None``: a saved variable, a global, a builtin,
    then attributes of it (names and attributes only: nothing is called)."""
    if isinstance(expr, ast.Name):
        for scope in (names, namespace, vars(builtins)):
            if expr.id in scope:
                return scope[expr.id]
        return None
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, names, namespace)
        if base is None:
            return None
        try:
            return getattr(base, expr.attr, None)
        except Exception:  # a property that raises: not a manager daifu knows
            return None
    return None


def _open_mode(call: ast.Call) -> str | None:
    node: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            node = keyword.value
    if node is None:
        return "r"
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def flush_files(values: list[dict[str, Any]]) -> None:
    """Flush the open files among the saved frames' variables: a block appending to one is
    entered again by a new process, which must find what this one wrote on disk."""
    for frame_values in values:
        for value in frame_values.values():
            if isinstance(value, io.IOBase) and not value.closed:
                with contextlib.suppress(Exception):
                    value.flush()
