"""Black on a big generated function, a piece at a time: the same text, in linear time.

Black's cost grows faster than its input on one huge function (2x the lines took 2.3x to 3.2x
the time here), and a module's script-level code becomes one such function: 5,000 lines of
script made ~25,000 lines for black in one call. :func:`black_format` cuts the generated
function (``def`` [cells] ``try:`` body ``except ...``) between statements into pieces of
about :data:`CHUNK_LINES` lines, formats each piece inside a small frame of its own, and joins
the results.

Black formats each statement on its own; what crosses statements is the blank lines before a
line (``EmptyLineTracker``: the previous line, the defs still open, a comment block before a
def). So a cut is made only where that state is known and the frame reproduces it:

* between two statements of the barrier's ``try`` body (depth 2) when the one before is a
  simple statement (not an import, a def, a class, a string) and the lines between are blank
  or comments at the next statement's column: the frame puts a plain name statement before
  the piece;
* between two cells (nested defs at depth 1) separated by blank lines only, when the one before
  ends in a plain ``return`` line at depth 2: the frame puts a def ending the same way before it.

Black also formats for the Python versions its input's syntax allows (trailing commas after
``*args``, parentheses around ``with`` items): each piece is formatted for the versions black
infers from the whole text (one parse of it, about a sixth of black's time).

Each framed piece must come back with its frame exactly as expected, or the whole text is given
to black in one call as before; so is any text with ``fmt:`` directives (which act across
statements) and any text smaller than two pieces. Black's own result stays the reference: the
tests compare the two on every shape.
"""

from __future__ import annotations

import ast
import itertools

from daifu_cli.passes import format as fmt

#: Lines of black input per piece (smaller pieces cost a frame each; larger ones, superlinear time).
CHUNK_LINES = 400

_BODY_PREFIX = "def __daifu_chunk__():\n    try:\n        __daifu_chunk_previous__\n"
_BODY_SUFFIX = "    except BaseException:\n        pass\n"
_CELL_PREFIX = "def __daifu_chunk__():\n    def __daifu_chunk_previous__():\n        return _daifu_k()\n"
_CELL_SUFFIX = "    try:\n        pass\n    except BaseException:\n        pass\n"


def black_format(text: str, line_length: int, chunk_lines: int | None = None) -> str:
    """What ``format.black_format(text, line_length)`` returns, formatted piece by piece
    where *text* is a big generated function (see the module's docstring)."""
    chunk_lines = chunk_lines or CHUNK_LINES
    lines = text.split("\n")
    if len(lines) < 2 * chunk_lines or "fmt:" in text or "yapf:" in text:
        return fmt.black_format(text, line_length)
    try:
        cuts = _cuts(text, lines)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        cuts = []
    pieces = _pieces(cuts, len(lines), chunk_lines)
    if len(pieces) < 2:
        return fmt.black_format(text, line_length)
    try:
        # Black formats for the Python versions the syntax of its input allows (trailing
        # commas after *args, parenthesized `with` items): a piece is formatted for those the
        # whole text allows, not for those its own smaller part would.
        versions = fmt.target_versions(text)
    except fmt.FormatError:
        return fmt.black_format(text, line_length)
    out: list[str] = []
    for start, stop, before, after in pieces:
        formatted = _framed(lines[start:stop], before, after, line_length, versions)
        if formatted is None:
            return fmt.black_format(text, line_length)
        out.append(formatted)
    return "\n".join(out)


#: A cut: (first line of the piece after it, 0-based; which frame that piece needs).
Cut = tuple[int, str]


def _cuts(text: str, lines: list[str]) -> list[Cut]:
    tree = ast.parse(text)
    funcs = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
    if len(funcs) != 1:
        return []
    func = funcs[0]
    cuts: list[Cut] = []
    body = func.body
    for previous, current in itertools.pairwise(body):
        if _is_cell(previous) and _is_cell(current) and _blank_between(lines, previous, current):
            cuts.append((previous.end_lineno, "cell"))  # type: ignore[arg-type]
    barrier = next((s for s in body if isinstance(s, ast.Try)), None)
    if barrier is not None:
        for previous, current in itertools.pairwise(barrier.body):
            if _plain(previous, lines) and _comments_at(lines, previous, current):
                cuts.append((previous.end_lineno, "body"))  # type: ignore[arg-type]
    return sorted(cuts)


def _pieces(cuts: list[Cut], total: int, chunk_lines: int) -> list[tuple[int, int, str, str]]:
    """(start, stop, frame before, frame after) of each piece: ``""`` for none."""
    pieces: list[tuple[int, int, str, str]] = []
    start, before = 0, ""
    for at, kind in cuts:
        if at - start >= chunk_lines and total - at >= chunk_lines // 2:
            pieces.append((start, at, before, kind))
            start, before = at, kind
    pieces.append((start, total, before, ""))
    return pieces


def _framed(
    piece: list[str], before: str, after: str, line_length: int, versions: frozenset[object]
) -> str | None:
    prefix = {"": "", "body": _BODY_PREFIX, "cell": _CELL_PREFIX}[before]
    suffix = {"": "", "body": _BODY_SUFFIX, "cell": _CELL_SUFFIX}[after]
    text = prefix + "\n".join(piece) + ("\n" + suffix if suffix else "")
    try:
        formatted = fmt.black_format(text, line_length, versions)
    except fmt.FormatError:
        return None
    if prefix:
        if not formatted.startswith(prefix):
            return None
        formatted = formatted[len(prefix) :]
    if suffix:
        # black puts a blank line before the frame's `try:` after a def (the cell before it)
        expected = ("\n\n" if after == "cell" else "\n") + suffix.rstrip("\n")
        if not formatted.endswith(expected):
            return None
        formatted = formatted[: -len(expected)]
    return formatted


def _is_cell(node: ast.stmt) -> bool:
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return False
    last = node.body[-1]
    return isinstance(last, ast.Return) and last.lineno == last.end_lineno and last.col_offset == 8


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return decorators[0].lineno if decorators else node.lineno


def _blank_between(lines: list[str], previous: ast.stmt, current: ast.stmt) -> bool:
    between = lines[previous.end_lineno : _first_line(current) - 1]  # type: ignore[misc]
    return all(not line.strip() for line in between)


def _plain(node: ast.stmt, lines: list[str]) -> bool:
    """A simple statement at depth 2 that black sees as a plain line (no block, def, class,
    import, string or decorator; nothing after it on its last line)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
        return False
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return False
    if any(isinstance(getattr(node, name, None), list) for name in ("body", "orelse", "finalbody", "handlers", "cases")):
        return False
    if node.col_offset != 8:
        return False
    last = lines[node.end_lineno - 1]  # type: ignore[operator]
    return last[node.end_col_offset :].strip() == ""  # a `;` or a comment after it: no cut


def _comments_at(lines: list[str], previous: ast.stmt, current: ast.stmt) -> bool:
    """Only blank lines and comments at *current*'s column between the two statements."""
    if current.col_offset != 8:
        return False
    for line in lines[previous.end_lineno : _first_line(current) - 1]:  # type: ignore[misc]
        stripped = line.strip()
        if stripped and not (stripped.startswith("#") and line[: len(line) - len(line.lstrip())] == " " * 8):
            return False
    return True
