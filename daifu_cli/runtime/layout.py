"""The shape of vaccinated code: names and signals shared by the transpiler and the runtime.

The transpiler writes code in this shape and the runtime reads it back (to map a crash to a
statement of the user's program and to build the code that resumes it), so both import the
conventions from here and nowhere else.

A vaccinated function keeps its statements in place, runs them with real local variables, and
adds four things:

* a *crash barrier* (``try: ... except BaseException as _daifu_e:``) around its body;
* the iterator of every ``for`` loop in a local named ``_daifu_it_L<line>`` (made by the
  builtin ``iter`` held as ``__daifu__.iter``), so that a resumed
  loop goes on with the same iterator instead of pulling a new batch;
* a *cell* (a nested function sharing the function's variables as closure cells) for the body of
  every ``with`` statement and for each part of a ``try`` statement that has a ``finally``
  clause, so that the manager stays entered (and the ``finally`` has not run) while a crash
  inside waits for its fix;
* after each cell call, a *dispatch* that turns the cell's signal back into control flow.

Signals returned by a cell: ``None`` (the body ran to its end), ``"break"``, ``"continue"``, a
1-tuple ``(value,)`` for ``return value``, or a runtime ``Resumed`` object when the cell's rest
ran as new code after a fix (the caller then hands over to new code as well).
"""

from __future__ import annotations

import re

from . import signals

#: Prefix of every name the transpiler adds to a function. User code using it is not vaccinated.
PREFIX = "_daifu_"
#: The exception caught by a crash barrier.
EXC = "_daifu_e"
#: The resume plan returned by the runtime when it intercepts a crash.
RESUME = "_daifu_k"
#: The function a continuation (the code that resumes a crashed function) runs as: renamed
#: after the user's function when compiled, found by this name and its first line.
CONTINUATION = "_daifu_resume"
#: The signal returned by the last cell call.
SIGNAL = "_daifu_t"
#: A probe closure whose cells give the runtime every variable the function shares.
CELLS_PROBE = "_daifu_cells"
#: Name of the function that holds the script-level code of a vaccinated module.
SCRIPT = "__daifu_script__"
#: The builtin through which vaccinated code reaches the runtime shim.
RUNTIME = "__daifu__"
#: The builtin ``iter`` as the runtime holds it: what a hoisted loop calls (unshadowable).
ITER = f"{RUNTIME}.iter"
#: Names the generated code reads that a program could rebind: a module binding one is left as
#: it was (the crash barrier would catch or call the program's object instead).
GUARDED_NAMES = ("BaseException", RUNTIME)
#: Package name of the runtime shim shipped inside a vaccinated output.
SHIM_PACKAGE = "_daifu_shim"

BREAK = "break"
CONTINUE = "continue"

#: Kinds of cells: the body of a ``with``, and the parts of a ``try`` with ``finally``.
CELL_KINDS = ("with", "try", "except", "else", "finally")

_CELL_RE = re.compile(r"^_daifu_(with|try|except|else|finally)_L(\d+)$")
_ITER_RE = re.compile(r"^_daifu_it_L(\d+)$")


def iterator_name(line: int) -> str:
    """Local holding the iterator of the ``for`` loop at *line* of the original file."""
    return f"{PREFIX}it_L{line}"


def cell_name(kind: str, line: int) -> str:
    """Name of the cell for the *kind* block starting at *line* of the original file."""
    assert kind in CELL_KINDS, kind
    return f"{PREFIX}{kind}_L{line}"


def parse_cell_name(name: str) -> tuple[str, int] | None:
    """``("with", 14)`` for ``_daifu_with_L14``; ``None`` for any other name."""
    match = _CELL_RE.match(name)
    return (match.group(1), int(match.group(2))) if match else None


def parse_iterator_name(name: str) -> int | None:
    """The original line of the loop whose iterator *name* holds, or ``None``."""
    match = _ITER_RE.match(name)
    return int(match.group(1)) if match else None


#: The decorator that names a function's cells after it.
CELLS_DECORATOR = f"{RUNTIME}.cells"


def cell_of(code: object) -> str | None:
    """The cell name of a code object (renamed cells keep it in the runtime's registry)."""
    name = getattr(code, "co_name", "")
    if name.startswith(PREFIX) and parse_cell_name(name):
        return name  # type: ignore[no-any-return]
    return signals.CELL_CODES.get(code)


def is_generated_name(name: str) -> bool:
    """Whether *name* belongs to daifu rather than to the user's program."""
    return name.startswith(PREFIX) or name in (SCRIPT, RUNTIME)
