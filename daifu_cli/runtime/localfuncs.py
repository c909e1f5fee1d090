"""Functions the program defines inside another function, in process checkpoints: a lambda
handed to ``LambdaLR``, a nested ``def lr_lambda(step)`` of a warm-up schedule, a local
``collate`` function.

pickle saves a function by reference (its module and qualified name), which a function defined
inside another cannot have (``main.<locals>.<lambda>``): the checkpoint left it out, and with
it whatever held it (``lr_scheduler (frame 0): LambdaLR cannot be saved``), so a process
resumed from the checkpoint (``daifu resume``, a torchrun worker resuming the job) met the
variable unbound. A function of the project's own vaccinated modules is saved by value instead:
its code object (``marshal``: the resumed process runs the same interpreter and the same
vaccinated code), its module (its globals are that module's, live), its defaults and the
values of its closure cells. Functions of libraries are left to pickle, as before.
"""

from __future__ import annotations

import marshal
import sys
import types

from . import registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def is_local(value: Any) -> bool:
    """Whether *value* is a function the project defined inside another function: it does not
    come back when the program's set-up runs again, as its module-level functions do."""
    return type(value) is types.FunctionType and "<locals>" in value.__qualname__ and value.__module__ in registry.modules


def reduce(value: Any) -> Any:
    """For a ``Pickler.reducer_override``: how to save *value* if it is a local function of
    the project, else ``NotImplemented`` (pickle's own way)."""
    if not is_local(value):
        return NotImplemented
    cells = []
    for cell in value.__closure__ or ():
        try:
            cells.append((True, cell.cell_contents))
        except ValueError:  # a cell not assigned yet
            cells.append((False, None))
    return rebuild, (
        marshal.dumps(value.__code__), value.__module__, value.__name__, value.__qualname__,
        value.__defaults__, value.__kwdefaults__, tuple(cells), dict(value.__dict__),
    )


def rebuild(code: bytes, module: str, name: str, qualname: str, defaults: Any, kwdefaults: Any,
            cells: tuple, attributes: dict) -> types.FunctionType:
    closure = tuple(types.CellType(content) if full else types.CellType() for full, content in cells)
    function = types.FunctionType(marshal.loads(code), vars(sys.modules[module]), name, defaults, closure or None)
    function.__qualname__ = qualname
    function.__kwdefaults__ = kwdefaults
    function.__dict__.update(attributes)
    return function
