"""Pass 7, verify: the output compiles and holds exactly the user's statements, in order.

Input: the original tree and the vaccinated text of a whole file. Output: for each vaccinated
function, the line map ``(vaccinated line, original line)`` of its statements, and the runs of
lines copied one for one (``(vaccinated line, original line, length)``: simple statements, and
the defs and classes it holds that are not vaccinated themselves); or a
:class:`VerifyError` naming the function whose output is wrong (the pipeline then leaves that
function as it was and reports an internal error for it).

The round-trip reads the output with the runtime's own reader
(:func:`daifu_cli.runtime.logical.logical_function`) and compares it with the input statement
by statement, so a transform that lost, duplicated or reordered a statement, or left a cell
the runtime cannot find, never reaches a user.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from collections.abc import Collection, Sequence

from daifu_cli.runtime import logical, normal
from daifu_cli.runtime.logical import find_function, find_functions, occurrence
from daifu_cli.runtime.names import SIMPLE_STATEMENTS
from daifu_cli.runtime.registry import decode_source
from daifu_cli.source import Token

__all__ = ["VerifyError", "check_function", "compile_check", "find_function", "find_functions", "lost_comment", "occurrence"]


class VerifyError(Exception):
    def __init__(self, qualname: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{qualname}: {message}")
        self.qualname = qualname
        self.message = message
        #: The output line the compiler complained about, for a ``<module>`` error.
        self.line = line


def compile_check(data: bytes, filename: str, text: str) -> ast.Module:
    """Compile the output *data* as Python reads it from disk (its BOM, coding declaration and
    line endings decide how it decodes), and check that it decodes to *text*: a coding line
    pushed below line 2, or a BOM lost, can leave a file that compiles but reads differently.
    Compiling also checks scopes (nonlocal and global rules)."""
    try:
        tree = ast.parse(data, filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        message = f"output does not compile: {exc.msg} (line {exc.lineno})"
        raise VerifyError("<module>", message, exc.lineno) from None
    read = decode_source(data)
    if read != text:
        lines, wanted = read.split("\n"), text.split("\n")
        line = next((n for n, (a, b) in enumerate(zip(lines, wanted, strict=False), 1) if a != b), min(len(lines), len(wanted)))
        raise VerifyError("<module>", f"output reads back differently from disk (line {line})", line)
    return tree


def lost_comment(comments: Collection[Token], text: str) -> Token | None:
    """The first of the input's *comments* that the output *text* holds fewer times than the
    input (a comment is the rest of a line from a ``#``; the output's candidates are counted
    from every ``#``, so this never needs to tokenize the output, and never reports a comment
    that is there)."""
    wanted = Counter(c.string.rstrip() for c in comments)
    if not wanted:
        return None
    found: Counter[str] = Counter()
    at = text.find("#")  # from one ``#`` to the next: most lines of the output have none
    while at >= 0:
        end = text.find("\n", at)
        candidate = text[at : end if end >= 0 else len(text)].rstrip()
        if candidate in wanted:
            found[candidate] += 1
        at = text.find("#", at + 1)
    short = {c for c, n in wanted.items() if found[c] < n}
    return next((c for c in comments if c.string.rstrip() in short), None) if short else None


def check_function(
    original: ast.FunctionDef | Sequence[ast.stmt], output: ast.FunctionDef, qualname: str, *, script: bool = False,
    future_annotations: bool = False, runs: list[tuple[int, int, int]] | None = None,
    lines: tuple[Sequence[str], Sequence[str]] | None = None,
) -> list[tuple[int, int]]:
    """Compare a vaccinated function with its original; returns the line map (and adds the
    runs of copied lines to *runs*). *lines*: the input's and the output's lines, if known (a
    statement written alike in both then needs no comparison of trees; the map names the
    lines of ``else``/``finally`` keywords, which the tree does not hold)."""
    try:
        view = logical.logical_function(output)
    except logical.NotVaccinated as exc:
        raise VerifyError(qualname, f"output not readable by the runtime: {exc}") from None
    stmts = list(original.body) if isinstance(original, ast.FunctionDef) else list(original)
    if script:
        stmts = _expand_script_annotations(stmts, future_annotations)
    linemap: list[tuple[int, int]] = []
    if isinstance(original, ast.FunctionDef):
        _header_lines(original, output, linemap)
        _declaration_lines(original, output, linemap)
    _compare_blocks(stmts, view.body, qualname, linemap, runs if runs is not None else [], lines)
    return linemap


def _header_lines(original: ast.FunctionDef, output: ast.FunctionDef, linemap: list[tuple[int, int]]) -> None:
    """The ``def`` line and the decorators daifu kept (a frame evaluating a decorator or a
    default value runs there)."""
    linemap.append((output.lineno, original.lineno))
    remaining = list(original.decorator_list)
    for decorator in output.decorator_list:
        dump = ast.dump(decorator, include_attributes=False)
        match = next((d for d in remaining if ast.dump(d, include_attributes=False) == dump), None)
        if match is not None:
            remaining = remaining[remaining.index(match) + 1 :]
            linemap.append((decorator.lineno, match.lineno))


def _declaration_lines(original: ast.FunctionDef, output: ast.FunctionDef, linemap: list[tuple[int, int]]) -> None:
    """A name the user annotated and first bound inside a cell is declared at the top of the
    vaccinated function with the user's annotation (``unused: int``): that line maps to the
    line that annotates it, not to the ``def`` (no code runs there, but a reader of the map
    or of a diff looks for the user's line)."""
    annotated: dict[str, ast.AnnAssign] = {}
    queue = logical.statement_children(original)
    index = 0
    while index < len(queue):
        node = queue[index]
        index += 1
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotated.setdefault(node.target.id, node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            queue.extend(logical.statement_children(node))
    for stmt in output.body:
        if not (isinstance(stmt, ast.AnnAssign) and stmt.value is None and isinstance(stmt.target, ast.Name)):
            continue
        user = annotated.get(stmt.target.id)
        if user is None:
            continue
        linemap.append((stmt.lineno, user.lineno))
        ours, theirs = stmt.annotation, user.annotation
        extra = (ours.end_lineno or ours.lineno) - ours.lineno
        if extra and extra == (theirs.end_lineno or theirs.lineno) - theirs.lineno:  # as written
            linemap.extend((ours.lineno + k, theirs.lineno + k) for k in range(1, extra + 1))


def _compare_blocks(
    original: Sequence[ast.stmt], vaccinated: logical.Block, qualname: str, linemap: list[tuple[int, int]],
    runs: list[tuple[int, int, int]], lines: tuple[Sequence[str], Sequence[str]] | None = None,
) -> None:
    if len(original) != len(vaccinated):
        where = original[0].lineno if original else 0
        raise VerifyError(
            qualname,
            f"block at line {where}: {len(original)} statements became {len(vaccinated)}",
        )
    for before, after in zip(original, vaccinated, strict=False):
        node = _as_user_statement(after)
        in_cell = after.region is not None
        if not (lines and _written_alike(before, node, in_cell, lines)) and not normal.same(before, node, in_cell=in_cell):
            want = normal.key(before, header_only=True)
            got = normal.key(node, in_cell=in_cell, header_only=True)
            raise VerifyError(
                qualname, f"line {before.lineno}: statement changed\n  was: {want}\n  now: {got}"
            )
        linemap.append((after.first_line(), before.lineno))
        linemap.extend(_line_pairs(before, after))
        if isinstance(before, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _copied_runs(before, node, runs)
            continue  # nested scopes are compared as wholes (they may hold vaccinated defs)
        blocks = _user_blocks(before)
        if not blocks:
            _copied_runs(before, node, runs)
        if blocks:  # a statement without blocks has no clauses either
            _clause_lines(before, node, linemap)
            if lines is not None:
                _keyword_lines(before, node, linemap, lines)
        for name, block in blocks:
            _compare_blocks(block, after.blocks.get(name, []), qualname, linemap, runs, lines)


def _written_alike(
    before: ast.stmt, after: ast.stmt, in_cell: bool, lines: tuple[Sequence[str], Sequence[str]]
) -> bool:
    """Whether a simple statement on one line reads the same in the input and the output:
    Python parses the same text of a statement to the same tree (the module's future imports,
    which could change that, stay in the output), so :func:`normal.same` holds without
    comparing the trees (most of verify's time otherwise). A ``return`` in a cell is left to
    :func:`normal.same`, which reads it as a signal; so is anything else, and any line that is
    not ASCII (columns are counted in bytes)."""
    if type(before) is not type(after) or type(before) not in SIMPLE_STATEMENTS:
        return False
    if (in_cell and type(after) is ast.Return) or before.lineno != before.end_lineno or after.lineno != after.end_lineno:
        return False
    first, second = lines[0][before.lineno - 1], lines[1][after.lineno - 1]
    if not (first.isascii() and second.isascii()):
        return False
    return first[before.col_offset : before.end_col_offset] == second[after.col_offset : after.end_col_offset]


def _clause_lines(before: ast.stmt, after: ast.stmt, linemap: list[tuple[int, int]]) -> None:
    """``except`` clauses and ``case`` patterns run code of their own (the type, the pattern
    and its guard): map their lines too."""
    for clause_before, clause_after in zip(getattr(before, "handlers", []), getattr(after, "handlers", []), strict=False):
        linemap.append((clause_after.lineno, clause_before.lineno))
    for case_before, case_after in zip(getattr(before, "cases", []), getattr(after, "cases", []), strict=False):
        linemap.append((case_after.pattern.lineno, case_before.pattern.lineno))


def _keyword_lines(
    before: ast.stmt, after: ast.stmt, linemap: list[tuple[int, int]], texts: tuple[Sequence[str], Sequence[str]]
) -> None:
    """The lines of ``else:`` and ``finally:`` (the tree has no node for them: each is found
    in the text between the clause before it and its block's first statement)."""
    for field, keyword in (("orelse", "else"), ("finalbody", "finally")):
        sides = []
        for node, lines in ((before, texts[0]), (after, texts[1])):
            block = getattr(node, field, None)
            previous = _clause_before(node, field)
            if not block or previous is None:
                break
            sides.append(_keyword_line(lines, keyword, previous + 1, block[0].lineno))
        if len(sides) == 2 and None not in sides:
            linemap.append((sides[1], sides[0]))  # type: ignore[arg-type]


def _clause_before(node: ast.stmt, field: str) -> int | None:
    """The last line of what stands before the *field* clause of *node*."""
    parts: list[list[ast.stmt]] = [getattr(node, "body", [])]
    parts += [handler.body for handler in getattr(node, "handlers", [])]
    if field == "finalbody":
        parts.append(getattr(node, "orelse", []))
    last = [block[-1] for block in parts if block]
    return max((stmt.end_lineno or stmt.lineno) for stmt in last) if last else None


def _keyword_line(lines: Sequence[str], keyword: str, first: int, last: int) -> int | None:
    """The line in *first*..*last* that starts with *keyword* and its colon (an ``elif``, an
    ``else`` that is really ``elif``, is not one)."""
    for number in range(last, first - 1, -1):
        text = lines[number - 1].lstrip() if 0 < number <= len(lines) else ""
        if text.startswith(keyword) and text[len(keyword) :].lstrip().startswith(":"):
            return number
    return None


def _lines(node: ast.stmt) -> tuple[int, int]:
    """First and last line of a statement, decorators included."""
    decorators = getattr(node, "decorator_list", None) or []
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first, node.end_lineno or node.lineno


def _copied_runs(before: ast.stmt, after: ast.stmt, runs: list[tuple[int, int, int]]) -> None:
    """Map a statement copied as text line for line (a frame running inside it, such as a
    function the statement defines, is reported at its own line, not the statement's first).
    A statement holding a vaccinated def (a class with a vaccinated method) is mapped block by
    block around it; the vaccinated def is mapped by its own check."""
    first_before, last_before = _lines(before)
    first_after, last_after = _lines(after)
    if last_before - first_before == last_after - first_after:
        runs.append((first_after, first_before, last_before - first_before + 1))
        return
    blocks_before, blocks_after = _user_blocks(before), _user_blocks(after)
    shapes = [(name, len(block)) for name, block in blocks_before]
    if type(before) is not type(after) or not shapes or shapes != [(n, len(b)) for n, b in blocks_after]:
        return
    header = _lines(blocks_before[0][1][0])[0] - first_before
    if header > 0 and header == _lines(blocks_after[0][1][0])[0] - first_after:
        runs.append((first_after, first_before, header))
    elif header > 0:
        # daifu put lines above the block's first statement (a blank line and the decorator of a
        # vaccinated def): the header's first line still holds its keyword and test
        runs.append((first_after, first_before, 1))
    for (_, block_before), (_, block_after) in zip(blocks_before, blocks_after, strict=False):
        for inner_before, inner_after in zip(block_before, block_after, strict=False):
            if type(inner_before) is type(inner_after):
                _copied_runs(inner_before, inner_after, runs)


def _line_pairs(before: ast.stmt, after: logical.Stmt) -> list[tuple[int, int]]:
    """Each line of the statement itself (all of a simple statement, a compound one's header
    and its ``except`` clauses; the iterator line of a ``for``) with its line in the input, where
    the vaccinated statement has the same lines (only re-indented): tracebacks, warnings and
    logging records name the line inside a statement that spans several."""
    pairs: list[tuple[int, int]] = []

    def span(ours: ast.AST, theirs: ast.AST, ours_end: int | None = None, theirs_end: int | None = None) -> None:
        first, last = ours.lineno, ours_end or ours.end_lineno or ours.lineno  # type: ignore[attr-defined]
        user_first = theirs.lineno  # type: ignore[attr-defined]
        user_last = theirs_end or theirs.end_lineno or user_first  # type: ignore[attr-defined]
        if last - first == user_last - user_first:
            pairs.extend(zip(range(first, last + 1), range(user_first, user_last + 1), strict=True))
        else:  # reformatted: its lines map to its first line
            pairs.append((first, user_first))

    node = _as_user_statement(after)
    blocks = _user_blocks(before)
    ours_decorators, theirs_decorators = getattr(node, "decorator_list", []), getattr(before, "decorator_list", [])
    if len(ours_decorators) == len(theirs_decorators):
        for ours_decorator, theirs_decorator in zip(ours_decorators, theirs_decorators, strict=True):
            span(ours_decorator, theirs_decorator)
    if not blocks:
        span(after.node, before)
    elif isinstance(before, (ast.For, ast.AsyncFor)) and after.hoist is not None:
        hoisted = after.hoist.value.args[0]  # type: ignore[attr-defined]
        pairs.append((after.hoist.lineno, before.lineno))
        span(hoisted, before.iter)
    elif not after.cells and not isinstance(before, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        ours_body, theirs_body = getattr(node, "body", None), getattr(before, "body", None)
        if ours_body and theirs_body:
            span(node, before, ours_body[0].lineno - 1, theirs_body[0].lineno - 1)
        handlers = getattr(node, "handlers", []), getattr(before, "handlers", [])
        if len(handlers[0]) == len(handlers[1]):
            for ours_handler, theirs_handler in zip(*handlers, strict=True):
                span(ours_handler, theirs_handler, ours_handler.body[0].lineno - 1, theirs_handler.body[0].lineno - 1)
    elif isinstance(before, (ast.With, ast.AsyncWith)) and isinstance(after.node, (ast.With, ast.AsyncWith)):
        if after.node.body and before.body:
            span(after.node, before, after.node.body[0].lineno - 1, before.body[0].lineno - 1)
    return pairs


def _as_user_statement(stmt: logical.Stmt) -> ast.stmt:
    """The vaccinated statement with the iterator line folded back into its ``for``."""
    node = stmt.node
    if stmt.hoist is not None and isinstance(node, ast.For):
        clone = ast.For(
            target=node.target,
            iter=stmt.hoist.value.args[0],  # type: ignore[attr-defined]
            body=node.body,
            orelse=node.orelse,
            type_comment=None,
        )
        return ast.copy_location(clone, node)
    return node


def _user_blocks(stmt: ast.stmt) -> list[tuple[str, list[ast.stmt]]]:
    if type(stmt) in SIMPLE_STATEMENTS:  # most statements: no blocks
        return []
    out = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if block:
            out.append((name, block))
    for index, handler in enumerate(getattr(stmt, "handlers", [])):
        out.append((f"handler{index}", handler.body))
    for index, case in enumerate(getattr(stmt, "cases", [])):
        out.append((f"case{index}", case.body))
    order = {"body": 0, "handler": 1, "orelse": 2, "finalbody": 3, "case": 4}
    return sorted(out, key=lambda item: (order[item[0].rstrip("0123456789")], item[0]))


def _expand_script_annotations(stmts: list[ast.stmt], future: bool) -> list[ast.stmt]:
    """Module-level ``x: T = v`` is emitted as ``x = v`` plus the annotation store. The input
    is not changed: a statement whose blocks expand is a shallow copy with new block lists."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.simple:
            if stmt.value is not None:
                out.append(ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt))
            annotation: ast.expr = stmt.annotation
            if future:
                annotation = ast.Constant(ast.unparse(stmt.annotation))
            store = ast.Assign(
                [ast.Subscript(ast.Name("__annotations__", ast.Load()), ast.Constant(stmt.target.id), ast.Store())],
                annotation,
            )
            out.append(ast.copy_location(store, stmt))
            continue
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stmt = _with_expanded_blocks(stmt, future)
        out.append(stmt)
    return out


def _with_expanded_blocks(stmt: ast.stmt, future: bool) -> ast.stmt:
    copied: ast.stmt | None = None
    for name, block in _user_blocks(stmt):
        expanded = _expand_script_annotations(block, future)
        if len(expanded) == len(block) and all(a is b for a, b in zip(expanded, block, strict=True)):
            continue
        if copied is None:
            copied = copy.copy(stmt)
            for field in ("handlers", "cases"):
                if hasattr(copied, field):
                    setattr(copied, field, [copy.copy(item) for item in getattr(stmt, field)])
        if name.startswith("handler"):
            copied.handlers[int(name[7:])].body = expanded  # type: ignore[attr-defined]
        elif name.startswith("case"):
            copied.cases[int(name[4:])].body = expanded  # type: ignore[attr-defined]
        else:
            setattr(copied, name, expanded)
    return stmt if copied is None else copied
