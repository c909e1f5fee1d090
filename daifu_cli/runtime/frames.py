"""From a barrier's frame to the user statement that crashed.

A barrier runs in a vaccinated frame: a function's own frame (its *root*), or a cell's. The
frames of one function invocation are the barrier frame, the cells that called it, and the
root. :func:`locate` finds them, reads the function's logical view, and maps the line where
the exception passed through the barrier frame to a user statement and a *phase* (where in
the statement it failed).
"""

from __future__ import annotations

import ast
import dis
from dataclasses import dataclass
from types import CodeType, FrameType, TracebackType

from . import joined, layout, logical, registry, signals

#: Phases: ``run`` (a simple statement), ``iter`` (creating a loop's iterator), ``next``
#: (a loop header taking the next item), ``enter`` (a ``with`` header), ``test`` (an ``if``,
#: ``while`` or ``match`` header), ``handler`` (an ``except`` clause's type).
PHASES = ("run", "iter", "next", "enter", "test", "handler")


@dataclass
class Where:
    """A crash site in the user's terms."""

    module: registry.ModuleRecord
    view: logical.Function
    qualname: str
    #: Full logical path of the statement (see :func:`logical.walk`).
    path: tuple
    phase: str
    #: The cell whose frame runs the statement, or ``None`` for the root frame.
    region: str | None
    #: Frames of this invocation from the barrier frame up to the root, innermost first.
    frames: list[FrameType]
    #: The continuation record if the crash happened in resumed code.
    continuation: registry.ContinuationRecord | None
    line: int
    #: The generation of the module whose code the frame runs (for a continuation: the one
    #: it was built from); ``line`` and the view's statements are in its coordinates.
    generation: registry.Generation
    #: The line holds statements a ``;`` joins and which one failed could not be told: the
    #: position is the first of them (see :mod:`.joined`).
    approximate: bool = False

    @property
    def stmt(self) -> logical.Stmt:
        return statement_at(self.view.body, self.path)

    @property
    def module_line(self) -> int:
        """The statement's line in the vaccinated module (also for a crash in resumed code,
        whose own line numbers belong to the generated continuation)."""
        stmt = self.stmt
        if self.phase == "iter" and stmt.hoist is not None:
            return stmt.hoist.lineno
        if self.continuation is None:
            return self.line
        return stmt.node.lineno

    @property
    def site(self) -> str:
        """A name for the crash site that stays the same across retries and resumes."""
        return f"{self.module.path}::{self.qualname}::{'/'.join(map(str, self.path))}::{self.phase}"

    @property
    def root_frame(self) -> FrameType:
        return self.frames[-1]


def statement_at(block: logical.Block, path: tuple) -> logical.Stmt:
    stmt = block[path[0]]
    rest = path[1:]
    while rest:
        stmt = stmt.blocks[rest[0]][rest[1]]
        rest = rest[2:]
    return stmt


def is_cell(frame: FrameType) -> bool:
    return layout.cell_of(frame.f_code) is not None


def invocation_frames(frame: FrameType) -> list[FrameType]:
    """The barrier frame and the cell frames above it, up to the function's own frame (or
    the continuation that runs in its place)."""
    frames = [frame]
    while is_cell(frames[-1]):
        parent = frames[-1].f_back
        while parent is not None and parent.f_code in _DISPATCHERS:
            parent = parent.f_back  # the shim's call of an ``else``/``finally`` cell
        if parent is None or parent.f_code.co_filename != frames[-1].f_code.co_filename:
            break
        frames.append(parent)
    return frames


#: The shim's functions that call the ``else`` and ``finally`` cells of a ``try``.
_DISPATCHERS = frozenset({signals.run_else.__code__, signals.run_finally.__code__})


def traceback_entry(tb: TracebackType | None, frame: FrameType) -> tuple[int, int]:
    """The line and instruction offset of *frame* that the exception passed through."""
    while tb is not None:
        if tb.tb_frame is frame:
            return tb.tb_lineno, tb.tb_lasti
        tb = tb.tb_next
    return frame.f_lineno, frame.f_lasti


def _after_line(code: CodeType, offset: int, line: int) -> bool:
    """Whether instruction *offset* comes after the first instruction of *line* (for a
    ``with``: the failure happened in ``__exit__``, after the body)."""
    for instruction in dis.get_instructions(code):
        number = getattr(instruction, "line_number", None)
        if number is None:
            starts = instruction.starts_line
            number = starts if isinstance(starts, int) and not isinstance(starts, bool) else None
        if number == line:
            return offset > instruction.offset
    return False


class CannotPlace(Exception):
    """The barrier's frame cannot be mapped to a user statement; the message says why."""


def locate(exc: BaseException, frame: FrameType) -> Where | None:
    """Where *exc* crashed, seen from the barrier running in *frame*; ``None`` if it cannot
    be placed (:func:`place` says why)."""
    try:
        return place(exc, frame)
    except CannotPlace:
        return None


def place(exc: BaseException, frame: FrameType) -> Where:
    """Where *exc* crashed, seen from the barrier running in *frame*; raises
    :class:`CannotPlace` with the reason when the frame is not vaccinated code the runtime
    can read (the barrier then says so and lets the exception go on)."""
    line, offset = traceback_entry(exc.__traceback__, frame)
    frames = invocation_frames(frame)
    root = frames[-1]
    record = registry.continuations.get(root.f_code.co_filename)
    region = layout.cell_of(frame.f_code)
    if record is not None:
        found = record.lines.get(line)
        if found is None:
            raise CannotPlace(f"line {line} of the resumed code {root.f_code.co_filename} runs no user statement")
        path, phase = found
        view = record.view
        generation = record.generation or record.module.current
        return Where(
            record.module, view, record.qualname, path, phase,
            statement_at(view.body, path).region, frames, record, line, generation,
        )
    module = registry.module_for(root.f_globals)
    if module is None:
        raise CannotPlace(
            f"module {root.f_globals.get('__name__')!r} did not register its source with the runtime"
        )
    found_generation = module.generation_for(root.f_code)
    if found_generation is None:
        raise CannotPlace(
            f"{root.f_code.co_name}() runs code of {module.path} that matches none of its "
            f"{len(module.generations)} known versions"
        )
    generation = found_generation
    node = generation.def_for(root.f_code)
    if node is None:
        raise CannotPlace(
            f"no def of {root.f_code.co_name}() at line {root.f_code.co_firstlineno} in version "
            f"{generation.number} of {module.path}"
        )
    try:
        view = generation.view(node)
    except logical.NotVaccinated as why:
        raise CannotPlace(f"{root.f_code.co_name}() is not in the shape daifu writes ({why})") from None
    on_line = statement_for_line(view, region, line)
    if on_line is None:
        raise CannotPlace(f"line {line} of {module.path} is no user statement of {root.f_code.co_name}()")
    found_path, approximate = on_line[0], False
    if len(on_line) > 1:
        found_path, approximate = joined.which(view, on_line, frame.f_code, offset, generation)
    stmt = statement_at(view.body, found_path)
    if isinstance(stmt.node, ast.With) and stmt.node.body and _after_line(frame.f_code, offset, stmt.node.body[0].lineno):
        raise CannotPlace("raised by a `with` manager's __exit__ (the with statement cannot be re-run)")
    qualname = generation.qualname_of(node)
    return Where(
        module, view, qualname, found_path, _phase(view, found_path, line), region, frames, None, line,
        generation, approximate,
    )


_statements: dict[tuple[int, str | None, int], list[tuple] | None] = {}


def statement_for_line(view: logical.Function, region: str | None, line: int) -> list[tuple] | None:
    """Paths of the statements of *region* on *line*: one, or those that share it (joined by
    ``;``, or ``if x: y`` written on one line: :mod:`.joined` tells them apart)."""
    key = (id(view), region, line)
    if key not in _statements:
        _statements[key] = _find_statements(view, region, line)
    return _statements[key]


def _find_statements(view: logical.Function, region: str | None, line: int) -> list[tuple] | None:
    found: list[tuple] = []
    for path, stmt in logical.walk(view.body):  # outside in: inner statements win
        if stmt.region != region:
            continue
        lines = [*(n.lineno for n in stmt.prefix), *stmt.own_lines()]
        if line in lines or any(
            n.lineno <= line <= (n.end_lineno or n.lineno) for n in stmt.prefix
        ):
            found.append(path)  # several only on a line that holds several statements
    return found or None


def _phase(view: logical.Function, path: tuple, line: int) -> str:
    stmt = statement_at(view.body, path)
    node = stmt.node
    if stmt.hoist is not None and stmt.hoist.lineno <= line <= (stmt.hoist.end_lineno or line):
        return "iter"
    if isinstance(node, ast.For):
        return "next"
    if isinstance(node, ast.With):
        return "enter"
    if isinstance(node, (ast.If, ast.While)) or type(node).__name__ == "Match":
        return "test"
    if stmt.blocks and any(name.startswith("handler") for name in stmt.blocks):
        return "handler"
    return "run"
