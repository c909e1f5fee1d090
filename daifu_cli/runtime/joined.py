"""Which of the statements that share a line is running: those a ``;`` joins
(``x = f(); y = g(x)``), and a clause with its block on its line (``if x: y``, ``while x: y``,
``try: y``, ``except E: y``: the ``try`` statement, whose own text is its headers).

The vaccinated code keeps such a line as the user wrote it, so a line number alone does not
name the statement, and the runtime must: a resume starts at the failing statement, not at
the first one of its line (that would run ``x = f()`` twice). The instruction the frame is at
tells them apart:

* Python 3.11+: each instruction has a column (``co_positions``); the statement whose text
  holds it is the one.
* Python 3.9 and 3.10 have no columns. The module's source is compiled again with each
  joined statement moved to a line of its own (made-up numbers far past the file's end); the
  bytecode does not depend on line numbers there, which is checked (the whole function's
  bytecode must come out the same), and the new line table then names the statement.

Where neither works (an instruction without a column, a compiler that made other bytecode),
the first statement of the line is taken and the position is marked *approximate*, which the
crash report says (the statements before the failing one on its line run again at a resume).
"""

from __future__ import annotations

import ast
import dis
import sys
from types import CodeType
from typing import TYPE_CHECKING

from . import logical

if TYPE_CHECKING:
    from .registry import Generation

#: Line numbers given to the joined statements when recompiling (3.9, 3.10).
_FAR = 10_000_000

def which(
    view: logical.Function, paths: list[tuple], code: CodeType, offset: int, generation: Generation
) -> tuple[tuple, bool]:
    """The path, among *paths* (statements joined on one line), of the one running at *offset*,
    and whether it is only the first of them (the one running could not be told)."""
    from .frames import statement_at

    nodes = [statement_at(view.body, path).node for path in paths]
    index = _by_column(nodes, code, offset) if sys.version_info >= (3, 11) else None
    if index is None:
        index = _by_recompiling(nodes, code, offset, generation)
    return (paths[0], True) if index is None else (paths[index], False)


def _by_column(nodes: list[ast.stmt], code: CodeType, offset: int) -> int | None:
    for number, position in enumerate(code.co_positions()):  # type: ignore[attr-defined]
        if number == offset // 2:
            line, _, column, _ = position
            if line is None or column is None:
                return None
            return _holding(nodes, line, column)
    return None


def _holding(nodes: list[ast.stmt], line: int, column: int) -> int | None:
    # Innermost first (*nodes* come outside in): a ``try: y`` holds ``y``'s text in its own.
    for index in reversed(range(len(nodes))):
        node = nodes[index]
        start = (node.lineno, node.col_offset)
        own = _own_end(node)
        end = (own.end_lineno or own.lineno, own.end_col_offset or 0)
        if start <= (line, column) < end or (line, column) == start:
            return index
    return None


def _own_end(node: ast.stmt) -> ast.stmt | ast.expr:
    """The last node of *node*'s own text: all of a simple statement, the test of an ``if`` or
    ``while`` whose block follows on its line."""
    test = getattr(node, "test", None)
    return test if isinstance(node, (ast.If, ast.While)) and test is not None else node


def _own_nodes(node: ast.stmt) -> list[ast.AST]:
    """The nodes whose instructions are *node*'s own (not its block's)."""
    if isinstance(node, (ast.If, ast.While)):
        return [node, *ast.walk(node.test)]
    return list(ast.walk(node))


def _by_recompiling(nodes: list[ast.stmt], code: CodeType, offset: int, generation: Generation) -> int | None:
    tree = ast.parse(generation.source, generation.path)  # a fresh tree: the cached one is shared
    starts = {(node.lineno, node.col_offset): index for index, node in enumerate(nodes)}
    found = [
        (index, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and (index := starts.get((node.lineno, node.col_offset))) is not None
    ]
    for index, node in found:
        for inner in _own_nodes(node):
            if hasattr(inner, "lineno"):
                inner.lineno = inner.end_lineno = _FAR + index  # type: ignore[attr-defined]
    try:
        module = compile(tree, generation.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    twin = _twin(module, code)
    if twin is None:
        return None
    line = None
    for start, number in dis.findlinestarts(twin):
        if start > offset:
            break
        line = number
    if line is None or not _FAR <= line < _FAR + len(nodes):
        return None
    return line - _FAR


def _twin(top: CodeType, code: CodeType) -> CodeType | None:
    """The code object compiled again for *code*: the same bytecode (and, among several such,
    the same first line). Names may differ: the runtime renames cells and the script function
    after what they run (``<module>``, the function), as tracebacks show them."""
    same: list[CodeType] = []
    stack = [top]
    while stack:
        current = stack.pop()
        if current.co_code == code.co_code:
            same.append(current)
        stack.extend(const for const in current.co_consts if isinstance(const, CodeType))
    if len(same) > 1:
        same = [c for c in same if c.co_firstlineno == code.co_firstlineno]
    return same[0] if len(same) == 1 else None
