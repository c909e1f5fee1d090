"""The program's own functions that pickle cannot name, saved by value in process checkpoints.

pickle saves a function as a reference, ``module.qualname``, so a ``lambda``, a function
defined inside another and a closure cannot be saved: a training program's
``LambdaLR(optimizer, lambda step: min(1.0, step / warmup))`` lost its scheduler (and a
``DataLoader(collate_fn=lambda batch: ...)`` its loader) from every checkpoint. A function of
a vaccinated module that cannot be named is saved as its code (``marshal``: the resumed process
runs the same Python), its module's name (its globals are that module's, as in the program),
its defaults, attributes and closure values. The closure comes back in cells of its own (two
functions sharing a cell get a cell each: a later assignment to that variable reaches only
one of them, the limit the README names). Functions of other modules (libraries) are not
touched: pickle names them or refuses, as before.
"""

from __future__ import annotations

import marshal
import sys
import types

from . import registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def reduce(value: Any) -> Any:
    """A ``reducer_override``: the reduction of a program's function pickle cannot name, or
    ``NotImplemented`` for everything else (pickle's own way)."""
    if type(value) is not types.FunctionType or named(value):
        return NotImplemented
    if registry.module_for(value.__globals__) is None:
        return NotImplemented
    closure = value.__closure__ or ()
    empty = []
    contents = []
    for index, cell in enumerate(closure):
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # not assigned yet
            empty.append(index)
            contents.append(None)
    state = {
        "qualname": value.__qualname__,
        "defaults": value.__defaults__,
        "kwdefaults": value.__kwdefaults__,
        "dict": dict(value.__dict__),
        "closure": contents,
        "empty": empty,
    }
    arguments = (marshal.dumps(value.__code__), value.__globals__.get("__name__"), value.__name__, len(closure))
    return _new_function, arguments, state, None, None, _set_state


def named(function: types.FunctionType) -> bool:
    """Whether pickle can save *function* by its module and qualified name."""
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    target: Any = module
    for part in function.__qualname__.split("."):
        if part == "<locals>" or target is None:
            return False
        target = getattr(target, part, None)
    return target is function


def _new_function(code: bytes, module: str, name: str, cells: int) -> types.FunctionType:
    namespace = sys.modules[module].__dict__
    closure = tuple(types.CellType() for _ in range(cells)) if cells else None
    return types.FunctionType(marshal.loads(code), namespace, name, None, closure)


def _set_state(function: types.FunctionType, state: dict[str, Any]) -> None:
    function.__qualname__ = state["qualname"]
    function.__defaults__ = state["defaults"]
    function.__kwdefaults__ = state["kwdefaults"]
    function.__dict__.update(state["dict"])
    cells = function.__closure__ or ()
    for index in range(len(cells)):
        if index not in state["empty"]:
            cells[index].cell_contents = state["closure"][index]


def reduce_module(module: types.ModuleType) -> Any:
    """A module (a function's local ``import``) as its name: imported again on load."""
    name = getattr(module, "__name__", None)
    if not name or sys.modules.get(name) is not module:
        raise TypeError(f"cannot pickle module {module!r}: not the one imported under its name")
    import importlib

    return importlib.import_module, (name,)
