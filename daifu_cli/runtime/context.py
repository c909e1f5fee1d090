"""The state of a crashed function invocation, carried across its recovery.

A vaccinated function shares its variables with its cells through closure cells. When a crash
is intercepted, :func:`capture` builds a :class:`Context` with one cell per variable: the very
cell objects the function's cells and the user's own closures hold (so a lambda created before
the crash keeps seeing the variable), and fresh cells holding a snapshot of plain local
variables. The resumed code is compiled as a closure over these cells, and action snippets
read and write them by name.

Each invocation gets its own context class, generated on the first crash
(``<qualname>Context``), whose fields are the function's parameters and locals; the context of
script-level code reads and writes the module's namespace.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, MutableMapping
from types import FrameType
from typing import Any

from . import layout

_EMPTY = object()
_INTERNAL = {layout.EXC, layout.RESUME, layout.SIGNAL, layout.CELLS_PROBE}


class Context:
    """Variables of one function invocation; ``ctx.x`` reads and writes variable ``x``."""

    #: Parameter names of the function, in order (set on generated subclasses).
    params: tuple[str, ...] = ()

    def __init__(self, qualname: str, globals_: dict[str, Any], script: bool) -> None:
        object.__setattr__(self, "_cells", {})
        object.__setattr__(self, "qualname", qualname)
        object.__setattr__(self, "globals", globals_)
        object.__setattr__(self, "script", script)

    # -- cells ---------------------------------------------------------------------------

    @property
    def cells(self) -> dict[str, types.CellType]:
        return self._cells  # type: ignore[attr-defined,no-any-return]

    def cell(self, name: str) -> types.CellType:
        """The cell of *name*, created empty if the variable is new."""
        found = self.cells.get(name)
        if found is None:
            found = self.cells[name] = types.CellType()
        return found

    def alias(self, new: str, old: str) -> None:
        """Make *new* share *old*'s cell (a loop iterator renamed by a fix)."""
        if old in self.cells:
            self.cells[new] = self.cells[old]

    # -- variables -----------------------------------------------------------------------

    def user_names(self) -> list[str]:
        names = [n for n in self.cells if not layout.is_generated_name(n)]
        if self.script:
            names = [n for n in self.globals if not n.startswith("__")]
        return names

    def get(self, name: str, default: Any = _EMPTY) -> Any:
        if self.script and not layout.is_generated_name(name):
            if name in self.globals:
                return self.globals[name]
        elif name in self.cells:
            try:
                return self.cells[name].cell_contents
            except ValueError:
                pass
        if default is _EMPTY:
            raise KeyError(name)
        return default

    def set(self, name: str, value: Any) -> None:
        if self.script and not layout.is_generated_name(name):
            self.globals[name] = value
        else:
            self.cell(name).cell_contents = value

    def delete(self, name: str) -> None:
        if self.script and not layout.is_generated_name(name):
            del self.globals[name]
            return
        cell = self.cells.get(name)
        if cell is None:
            raise KeyError(name)
        try:
            del cell.cell_contents
        except ValueError:
            raise KeyError(name) from None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.get(name)
        except KeyError:
            raise AttributeError(f"{self.qualname}() has no variable {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delattr__(self, name: str) -> None:
        try:
            self.delete(name)
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return sorted(self.user_names())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {', '.join(self.user_names())}>"

    def namespace(self) -> Namespace:
        """A mapping view for ``exec``: variables first, then the module's globals."""
        return Namespace(self)


class Namespace(MutableMapping[str, Any]):
    """Local namespace of an action snippet: staged writes, committed only on success."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.writes: dict[str, Any] = {}
        self.deleted: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name in self.writes:
            return self.writes[name]
        if name in self.deleted:
            raise KeyError(name)
        if name == "ctx":
            return self.context
        return self.context.get(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self.deleted.discard(name)
        self.writes[name] = value

    def __delitem__(self, name: str) -> None:
        self.writes.pop(name, None)
        self.deleted.add(name)

    def __iter__(self) -> Iterator[str]:
        return iter({*self.context.user_names(), *self.writes} - self.deleted)

    def __len__(self) -> int:
        return len(set(self))

    def commit(self) -> list[str]:
        """Apply the staged changes: variables of the function, or new module globals."""
        changed = []
        known = set(self.context.cells) | (set(self.context.globals) if self.context.script else set())
        for name in self.deleted:
            if name in known:
                self.context.delete(name)
                changed.append(name)
        for name, value in self.writes.items():
            if name == "ctx":
                continue
            imported = isinstance(value, types.ModuleType)
            if imported and self.context.globals.get(name) is value:
                continue  # `import os` in a snippet, for the snippet's own use: nothing changed
            if name in known or self.context.script:
                self.context.set(name, value)
            else:
                self.context.globals[name] = value  # a helper the snippet (re)defines
            if not (imported and name not in known):
                changed.append(name)
        return changed


def context_class(qualname: str, params: tuple[str, ...]) -> type[Context]:
    name = qualname.replace(".<locals>.", ".").replace(".", "_").replace("<", "").replace(">", "")
    return type(f"{name}Context", (Context,), {"params": params, "__slots__": ()})


def capture(
    qualname: str, frames: list[FrameType], *, script: bool, params: tuple[str, ...] = ()
) -> Context:
    """The context of the invocation whose frames (innermost first) are *frames*."""
    root = frames[-1]
    ctx = context_class(qualname, params)(qualname, root.f_globals, script)
    shared = _closure_cells(root.f_locals)
    for name, cell in shared.items():
        ctx.cells[name] = cell
    for frame in reversed(frames):
        for name, value in _frame_locals(frame).items():
            if name in _INTERNAL or name in ctx.cells:
                continue
            if _is_cell_function(value):
                continue
            ctx.cells[name] = types.CellType(value)
    return ctx


def release(frames: list[FrameType], ctx: Context) -> None:
    """Drop what the crashed frames still hold of the state the context now owns.

    The frames stay suspended under the code that resumes them until the function returns;
    without this, a variable the fix deletes or rebinds (``del cache``) would keep its old
    object alive there (fatal when recovering from out-of-memory)."""
    for frame in frames:
        code = frame.f_code
        # Only the frame's plain slots: a parameter that a cell captures is also in
        # co_varnames, but its value lives in a closure cell that the context shares with the
        # code that resumes (clearing it would clear the variable).
        shared = set(code.co_cellvars) | set(code.co_freevars)
        names = [n for n in code.co_varnames if (n in ctx.cells or n in _INTERNAL) and n not in shared]
        if not names:
            continue
        try:
            if sys.version_info >= (3, 13):
                proxy = frame.f_locals
                for name in names:
                    if name in proxy:
                        proxy[name] = None
            else:
                snapshot = frame.f_locals  # the frame's own dict, refreshed from its slots
                for name in names:
                    if name in snapshot:
                        snapshot[name] = None
                _locals_to_fast(frame)
        except Exception:  # releasing memory is best effort
            continue


def _locals_to_fast(frame: FrameType) -> None:
    import ctypes

    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


def _frame_locals(frame: FrameType) -> dict[str, Any]:
    return dict(frame.f_locals)


def _is_cell_function(value: Any) -> bool:
    code = getattr(value, "__code__", None)
    if code is None:
        return False
    return code.co_name == layout.CELLS_PROBE or layout.cell_of(code) is not None


def _closure_cells(local_values: dict[str, Any]) -> dict[str, types.CellType]:
    """Cells shared by the function's cells and probe: the variables they close over."""
    found: dict[str, types.CellType] = {}
    for value in local_values.values():
        if not _is_cell_function(value):
            continue
        closure = value.__closure__ or ()
        for name, cell in zip(value.__code__.co_freevars, closure):
            if layout.parse_cell_name(name) or name == layout.CELLS_PROBE:
                continue
            found.setdefault(name, cell)
    return found
