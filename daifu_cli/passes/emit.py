"""Pass 5, emit: write the vaccinated text of one function or of a module's script-level code.

Input: the :class:`~daifu_cli.source.SourceFile`, the function node (or the script's
statements) and its :class:`~daifu_cli.passes.analyze.Scope`.
Output: :class:`~daifu_cli.code.Code` at column 0, in the shape described in
:mod:`daifu_cli.runtime.layout`.

User statements are copied as source text, with their comments; the only edits inside them are
the ones cells need (``return``/``break``/``continue`` leaving a cell become signals, annotated
names lose their annotation, zero-argument ``super()`` names its arguments) and, in script-level
code, the calls that read the module namespace through ``locals()``. Everything else comes from
the templates. Every piece of the user's text (statements, headers of compound statements,
decorators and ``def`` lines, comment lines) is held out of black as a placeholder
(:class:`~daifu_cli.code.Kept`): black formats only what the transform wrote. Statements that
share a line (``a; b``, ``if x: y``) get a line each: the runtime finds the failing statement
by its line number.
"""

from __future__ import annotations

import ast
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from daifu_cli.code import Code, Kept, Piece, columns, from_pieces
from daifu_cli.passes.analyze import Scope, bound_names, own_nodes, used_names
from daifu_cli.render import render
from daifu_cli.runtime import layout
from daifu_cli.runtime.names import SIMPLE_STATEMENTS
from daifu_cli.source import Pos, SourceFile

Edit = tuple[Pos, Pos, list[Piece]]
_LINE_LIMIT = 80
_EDITED_CALLS = ("super", "locals", "vars", "dir", "exec", "eval")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class Region:
    """A block whose statements run in one frame: the function body or a cell."""

    cell: str | None
    #: Loops around the statement being emitted that lie inside this region.
    loop_depth: int = 0
    #: Signals that can leave this region: ``"break"``, ``"continue"``, ``"return"``.
    escapes: set[str] = field(default_factory=set)

    def in_loop(self) -> Region:
        return Region(self.cell, self.loop_depth + 1, self.escapes)


def cell_bodies(body: Sequence[ast.stmt]) -> list[list[ast.stmt]]:
    """The statement lists of *body* that become cells: ``with`` bodies and the parts of
    ``try`` statements with a ``finally`` clause (nested scopes excluded)."""
    out: list[list[ast.stmt]] = []
    for node in own_nodes(body):
        if isinstance(node, ast.With):
            out.append(node.body)
        elif _has_finally(node):
            out.append(node.body)  # type: ignore[attr-defined]
            out.extend(h.body for h in node.handlers)  # type: ignore[attr-defined]
            if node.orelse:  # type: ignore[attr-defined]
                out.append(node.orelse)  # type: ignore[attr-defined]
            out.append(node.finalbody)  # type: ignore[attr-defined]
    return out


def _has_finally(node: ast.AST) -> bool:
    return (isinstance(node, ast.Try) and bool(node.finalbody)) or (
        hasattr(ast, "TryStar") and isinstance(node, ast.TryStar) and bool(node.finalbody)
    )


class Emitter:
    """Emits one vaccinated function or script; see the module docstring."""

    def __init__(
        self,
        source: SourceFile,
        scope: Scope,
        target: Sequence[ast.AST],
        *,
        origin: str,
        substitutions: dict[int, Code],
        method_self: str | None = None,
        future_annotations: bool = False,
        kept: Kept | None = None,
        ends: Sequence[tuple[ast.stmt, int]] = (),
    ) -> None:
        self.src = source
        self.scope = scope
        self.origin = origin  # the user's file name, for comments
        self.substitutions = substitutions  # nested vaccinated defs, by node id
        self.method_self = method_self
        self.future_annotations = future_annotations
        # Statements copied unchanged are held out of formatting (see Kept); None: inline.
        self.kept = kept
        self.cells: list[Code] = []
        #: The last input line this target's output stands for (set by function/script): its
        #: last statement and the closing comments of the blocks nested in it. The closing
        #: comments of the body itself stay after it in the file, where they were.
        self.end = 0
        #: ``end`` of each nested vaccinated function, by node id.
        self.ends = {id(node): end for node, end in ends}
        #: The same by where each such ``def`` starts: a statement holds a nested function
        #: if that position lies in its span (statements nest or are apart), which is
        #: quicker than walking the statement (a walk per nesting level was quadratic).
        self._end_at = [((node.lineno, node.col_offset), end) for node, end in ends]
        self._footers: dict[int, tuple[list[int], int]] = {}
        # Calls that may need an edit, by start position (few: super/locals/exec and kin);
        # only calls of this scope (a lambda's locals() is the lambda's own).
        roots = list(target)
        if len(roots) == 1 and isinstance(roots[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
            roots = list(roots[0].body)
        own = own_nodes(roots) if source.may_name(_EDITED_CALLS) else ()
        shadowed = set(scope.globals) if scope.script else set()
        self._calls = sorted(
            ((source.start(node), id(node), node) for node in own
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in _EDITED_CALLS and node.func.id not in shadowed),
            key=lambda item: (item[0], item[1]),
        )

    # -- entry points -------------------------------------------------------------------

    def function(
        self, func: ast.FunctionDef, *, qualname: str, drop_decorators: Sequence[ast.expr] = ()
    ) -> Code:
        header = self._def_header(func, drop_decorators)
        body = list(func.body)
        docstring = None
        after = self.src.header_colon(self._def_colon_search(func)).start[0]
        if _is_docstring(body[0]):
            docstring = self._statements([body[0]], Region(None), after, footer=False)
            after = self._extent_end(body[0])
            body = body[1:]
        # The function's closing comments stay after it in the file, where they were.
        barrier = self._barrier(body, Region(None), after, footer=False) if body else Code.of("pass")
        self.end = max(func.end_lineno or func.lineno, self._extent_end(func.body[-1]))
        if self.cells:
            header = _with_decorator(header, f"@{layout.CELLS_DECORATOR}")
        slots = {"header": self._hold(header, "def {}():"), "barrier": barrier}
        if docstring is not None:
            slots["docstring"] = docstring
        if self.cells:
            slots["cells"] = self._joined_cells()
        cell_uses = used_names([s for b in self.scope.cell_bodies for s in b])
        return render(
            "function.py.j2",
            slots,
            docstring=docstring is not None,
            summary=f"crash barrier for {qualname}() from {self.origin}:{func.lineno}",
            declarations=self._declarations(func),
            probe=sorted(self.scope.shared - cell_uses),
            cells=bool(self.cells),
        )

    def script(self, stmts: list[ast.stmt], after_line: int) -> Code:
        barrier = self._barrier(stmts, Region(None), after_line, footer=False)
        self.end = max(*(s.end_lineno or s.lineno for s in stmts), self._extent_end(stmts[-1]))
        slots = {"barrier": barrier}
        if self.cells:
            slots["cells"] = self._joined_cells()
        summary = (
            f"script-level code of {self.origin} (from line {stmts[0].lineno}), run in the "
            "module namespace"
        )
        return render(
            "script.py.j2",
            slots,
            summary=summary,
            declarations=_wrapped("global", sorted(self.scope.globals)),
            cells=bool(self.cells),
        )

    # -- blocks and comments ------------------------------------------------------------

    def _barrier(
        self, stmts: list[ast.stmt], region: Region, after: int, footer: bool = True
    ) -> Code:
        body = self._statements(stmts, region, after, footer=footer, opened=True)
        return render("barrier.py.j2", {"body": body})

    def _statements(
        self,
        stmts: Sequence[ast.stmt],
        region: Region,
        after: int,
        footer: bool = True,
        opened: bool = False,
    ) -> Code:
        """*stmts* with their leading comments and (if *footer*) the block's closing ones.

        *opened*: the block follows a ``try:`` daifu wrote, where black wants an empty line
        before a ``def``/``class`` that comes first and after one that comes last (the user's
        code had them at the top of a function body, where it wants none).
        """
        out = Code()
        index = 0
        while index < len(stmts):
            stmt = stmts[index]
            out.extend(self._leading(self.src.stmt_start(stmt)[0], after, keep_blank=index > 0))
            if opened and index == 0 and not out.lines and isinstance(stmt, _SCOPES):
                out.add("")
            group = self._joined_group(stmts, index)
            joined = self._joined(group, region) if len(group) > 1 else None
            if joined is None:
                group = [stmt]
                joined = self._statement(stmt, region)
            out.extend(joined)
            after = self._extent_end(group[-1])
            index += len(group)
        if opened and stmts and isinstance(stmts[-1], _SCOPES):
            out.add("")
        if footer:
            found = self._footer(stmts)[0]
            if found:  # the closing comments, with the blank lines above and between them
                for number in range(self._extent_end(stmts[-1]) + 1, found[-1] + 1):
                    out.extend(self._comment_line(number) if number in found else Code.of(""))
        return out

    def _leading(self, start_line: int, after: int, keep_blank: bool = True) -> Code:
        """Comment lines (and blank lines between statements) above a statement."""
        out = Code()
        for number in range(after + 1, start_line):
            if self.src.is_comment_line(number):
                out.extend(self._comment_line(number))
            elif self.src.is_blank_line(number) and (keep_blank or out.lines):
                out.add("")
        return out

    def _comment_line(self, number: int) -> Code:
        """A comment line, as written (re-indented), held out of black."""
        return self._hold(Code.of(self.src.line(number).lstrip()), "# {}")

    def _hold(self, code: Code, form: str = "{}", wrapped: Code | None = None) -> Code:
        """A placeholder for the user's text *code* (see :class:`Kept`), or *code* itself when
        nothing is held out of formatting."""
        if self.kept is None or not code.lines:
            return code
        return self.kept.hold(code, form=form, wrapped=wrapped)

    def _held_header(self, code: Code, form: str | None = None) -> Code:
        """A compound statement's header held out of black, as a header of the same keyword."""
        if form is not None:
            return self._hold(code, form)
        text = code.lines[0][0].lstrip() if code.lines else ""
        keyword = text.split(None, 1)[0].rstrip(":") if text else ""
        if keyword.startswith("except") and text[6:].lstrip().startswith("*"):
            keyword = "except*"
        return self._hold(code, _HEADER_FORMS.get(keyword, "{}"))

    def _footer(self, stmts: Sequence[ast.stmt]) -> tuple[list[int], int]:
        """Comment lines closing block *stmts* (indented at least as deep), and its end.

        They start after the closing comments of the blocks nested in its last statement: a
        comment belongs to the innermost block it is indented for, and is emitted once.
        """
        key = id(stmts[-1])
        if key in self._footers:
            return self._footers[key]
        end = self._extent_end(stmts[-1])
        line, column = self.src.stmt_start(stmts[0])
        found: list[int] = []
        if self.src.line(line)[:column].strip():  # block on its header's line: no footer
            self._footers[key] = (found, end)
            return found, end
        number = end + 1
        while number <= len(self.src.lines):
            if self.src.is_blank_line(number):
                number += 1
                continue
            indent = len(self.src.indent_of(number))
            if self.src.is_comment_line(number) and indent >= column:
                found.append(number)
                number += 1
                continue
            break
        self._footers[key] = (found, found[-1] if found else end)
        return self._footers[key]

    def _block_end(self, block: Sequence[ast.stmt]) -> int:
        """Last line of *block*, its closing comments included (they stay in the block)."""
        return self._footer(block)[1]

    def _extent_end(self, stmt: ast.stmt) -> int:
        """Last line of *stmt*, including the closing comments of its last block (and so of
        the blocks nested in that one)."""
        end = stmt.end_lineno or stmt.lineno
        while isinstance(stmt, ast.If) and self._elif_of(stmt) is not None:
            # An ``elif`` is the ``orelse`` block of its ``if`` but stands at the ``if``'s
            # column: the comments after the chain at that column are not a closing comment of
            # any block of it (they lead the next statement); the chain ends with its last
            # clause's block.
            stmt = self._elif_of(stmt)  # type: ignore[assignment]
        if isinstance(stmt, _SCOPES):  # copied whole, but a vaccinated def in it took more
            first, last = (stmt.lineno, stmt.col_offset), (end, stmt.end_col_offset)
            return max([end, *(at_end for at, at_end in self._end_at if first <= at <= last)])
        block = _last_block(stmt)
        if block is None:
            return end
        return max(self._footer(block)[1], end)

    # -- statements ---------------------------------------------------------------------

    def _statement(self, stmt: ast.stmt, region: Region) -> Code:
        if type(stmt) in SIMPLE_STATEMENTS:  # most statements (the handlers below are for blocks)
            return self._simple(stmt, region)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return self._opaque(stmt)
        handlers: dict[type, Callable[[Any, Region], Code]] = {
            ast.For: self._for,
            ast.While: self._while,
            ast.If: self._if,
            ast.With: self._with,
            ast.Try: self._try,
        }
        if hasattr(ast, "TryStar"):
            handlers[ast.TryStar] = self._try
        if hasattr(ast, "Match"):
            handlers[ast.Match] = self._match
        handler = handlers.get(type(stmt))
        if handler is not None:
            return handler(stmt, region)
        return self._simple(stmt, region)

    def _simple(self, stmt: ast.stmt, region: Region) -> Code:
        start, end = self.src.stmt_start(stmt), self._simple_end(stmt)
        pieces = self._statement_pieces(stmt, region)
        if pieces is None:
            pieces = self._spliced(start, end, region)
        base = self.src.indent_of(start[0])
        code = from_pieces(self.src, pieces, base)
        wrapped = None
        if pieces and pieces[0] in ("return (", "return ((") and self.src.trailing_comment(end) is None:
            # A return leaving a cell, too long on one line: black's shape, the value alone.
            value = from_pieces(self.src, pieces[1:-1], base)
            if pieces[0] == "return ((":
                value = from_pieces(self.src, ["(", value, ")"], base)
            wrapped = Code.of("return (").extend(value, "    ")
            text, protected = wrapped.lines[-1]
            wrapped.lines[-1] = (text + ",", protected)
            wrapped.add(")")
        # Held as written, edits included: black formats none of the user's text.
        return self._hold(self._with_trailing_comment(code, end), wrapped=wrapped)

    def _joined_group(self, stmts: Sequence[ast.stmt], index: int) -> list[ast.stmt]:
        """The statement at *index* and those a ``;`` joins to it on its last line."""
        group = [stmts[index]]
        while index + len(group) < len(stmts):
            following = stmts[index + len(group)]
            if self.src.stmt_start(following)[0] != self.src.end(group[-1])[0]:
                break
            group.append(following)
        return group

    def _joined(self, group: list[ast.stmt], region: Region) -> Code | None:
        """Simple statements a ``;`` joins (``x = 1; y = 2``), kept on their line as written,
        each with its own edits; ``None`` where one of them becomes several lines or a note
        (a declaration moved to the top of a cell, an annotation stored apart), and then each
        gets a line of its own. The runtime tells the statements of one line apart by the
        failing instruction's column (3.11+) or bytecode (3.9, 3.10): see ``joined``."""
        pieces = self._joined_pieces(group, region)
        if pieces is None:
            return None
        start = self.src.stmt_start(group[0])
        code = from_pieces(self.src, pieces, self.src.indent_of(start[0]))
        return self._hold(self._with_trailing_comment(code, self._simple_end(group[-1])))

    def _joined_pieces(self, group: Sequence[ast.stmt], region: Region) -> list[Piece] | None:
        pieces: list[Piece] = []
        for number, stmt in enumerate(group):
            own = self._statement_pieces(stmt, region)
            if own is None:
                end = self._simple_end(stmt) if number == len(group) - 1 else self.src.end(stmt)
                own = self._spliced(self.src.stmt_start(stmt), end, region)
            if any(isinstance(piece, str) and ("\n" in piece or "#" in piece) for piece in own):
                return None  # several lines, or a note that would comment out what follows
            pieces += own
            if number < len(group) - 1:  # the user's ``;`` and the spaces around it
                pieces.append((self.src.end(stmt), self.src.stmt_start(group[number + 1])))
        return pieces

    def _one_line(self, stmt: ast.If | ast.While, region: Region) -> Code | None:
        """An ``if`` (with its ``elif``/``else`` clauses) or a ``while`` (with its ``else``) whose
        every clause is written on one line with its block (``if x: y`` / ``else: z``), kept on
        its lines as written; ``None`` for any other shape (each block then gets lines of its
        own)."""
        clauses: list[_Clause] = []
        current: ast.If | ast.While = stmt
        while True:
            inner = region.in_loop() if isinstance(current, ast.While) else region
            clauses.append((self.src.stmt_start(current), self.src.end(current.test), current.body, region, inner))
            if not current.orelse:
                break
            elif_ = self._elif_of(current) if isinstance(current, ast.If) else None
            if elif_ is None:
                token = self.src.keyword_before(current.orelse[0], "else")
                clauses.append((token.start, token.end, current.orelse, region, region))
                break
            current = elif_
        return self._inline_clauses(clauses)

    def _one_line_try(self, stmt: ast.stmt, region: Region) -> Code | None:
        """``try: y`` / ``except E: z`` / ``else: w``, each clause on one line with its block,
        kept as written (see :meth:`_one_line`)."""
        start = self.src.stmt_start(stmt)
        clauses: list[_Clause] = [(start, start, stmt.body, region, region)]  # type: ignore[attr-defined]
        for handler in stmt.handlers:  # type: ignore[attr-defined]
            clauses.append((self.src.start(handler), self._handler_colon_search(handler), handler.body, region, region))
        if stmt.orelse:  # type: ignore[attr-defined]
            token = self.src.keyword_before(stmt.orelse[0], "else")  # type: ignore[attr-defined]
            clauses.append((token.start, token.end, stmt.orelse, region, region))  # type: ignore[attr-defined]
        return self._inline_clauses(clauses)

    def _inline_clauses(self, clauses: list[_Clause]) -> Code | None:
        """The clauses of one compound statement, each ``header: block`` on one line, held as
        written with the comment lines between them; ``None`` unless every clause is on one
        line and no statement of a block needs lines of its own. All or none: black sees each
        clause as a simple statement, so a clause whose block has lines of its own cannot
        follow one."""
        out = Code()
        after = 0
        for number, (start, colon_after, block, outer, inner) in enumerate(clauses):
            colon = self.src.header_colon(colon_after)
            last = block[-1]
            if not (start[0] == colon.end[0] == self.src.stmt_start(block[0])[0] == (last.end_lineno or last.lineno)):
                return None
            body = self._joined_pieces(block, inner)
            if body is None:
                return None
            pieces = [*self._spliced(start, colon.end, outer), (colon.end, self.src.stmt_start(block[0])), *body]
            code = from_pieces(self.src, pieces, self.src.indent_of(start[0]))
            if number:
                out.extend(self._leading(start[0], after))
            out.extend(self._hold(self._with_trailing_comment(code, self._simple_end(last))))
            after = start[0]
        return out

    def _simple_end(self, stmt: ast.stmt) -> Pos:
        """Where a simple statement's text ends: after a ``;`` that ends its line (``x = 1;``)
        too, which is the user's text."""
        end = self.src.end(stmt)
        index = self.src.token_index_at(end)
        tokens = self.src.tokens
        if index + 1 < len(tokens) and tokens[index].string == ";" and tokens[index].start[0] == end[0]:
            after = tokens[index + 1]
            if after.type in (tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER):
                return tokens[index].end
        return end

    def _held(self, code: Code, unchanged: bool, scope: bool = False) -> Code:
        """*code*, or a placeholder for it if it is the user's text unchanged."""
        return self.kept.hold(code, scope=scope) if unchanged and self.kept is not None else code

    def _statement_pieces(self, stmt: ast.stmt, region: Region) -> list[Piece] | None:
        """Whole-statement rewrites; ``None`` keeps the statement's text."""
        in_cell = region.cell is not None
        if in_cell and isinstance(stmt, ast.Return):
            region.escapes.add("return")
            if stmt.value is None:
                return ["return (None,)"]
            value = self._spliced(self.src.start(stmt.value), self.src.end(stmt.value), region)
            if isinstance(stmt.value, (ast.Tuple, ast.NamedExpr, ast.Starred, ast.Yield, ast.YieldFrom, ast.Lambda, ast.IfExp)):
                return ["return ((", *value, "),)"]  # parenthesized: a 1-tuple holding it
            return ["return (", *value, ",)"]
        if in_cell and isinstance(stmt, (ast.Break, ast.Continue)) and not region.loop_depth:
            signal = layout.BREAK if isinstance(stmt, ast.Break) else layout.CONTINUE
            region.escapes.add(signal)
            return [f'return "{signal}"']
        if in_cell and isinstance(stmt, (ast.Global, ast.Nonlocal)):
            keyword = "global" if isinstance(stmt, ast.Global) else "nonlocal"
            note = f"{keyword} {', '.join(stmt.names)}: declared at the top of this cell"
            if self.src.trailing_comment(self.src.end(stmt)) is not None:
                return [f"# {note}\npass"]  # the user's comment follows ``pass``, a comment of its own
            return [f"pass  # {note}"]
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            return self._annotated(stmt, region)
        return None

    def _annotated(self, stmt: ast.AnnAssign, region: Region) -> list[Piece] | None:
        """Cells and scripts declare the names they bind, and a declared name cannot be
        annotated: keep the assignment and move the annotation (see ``_declarations``)."""
        if not (region.cell is not None or self.scope.script):
            return None
        target = stmt.target.id  # type: ignore[union-attr]
        pieces: list[Piece] = []
        if stmt.value is not None:
            pieces += [target, " = "]
            pieces += self._spliced(self.src.start(stmt.value), self.src.end(stmt.value), region)
        if self.scope.script and stmt.simple:
            store: list[Piece] = [f"__annotations__[{target!r}] = "]
            if self.future_annotations:  # the string Python itself would store
                store.append(repr(ast.unparse(stmt.annotation)))
            else:  # the annotation as written
                store.append((self.src.start(stmt.annotation), self.src.end(stmt.annotation)))
            pieces += ["\n", *store] if pieces else store
        return pieces or ["pass"]

    def _with_trailing_comment(self, code: Code, end: Pos) -> Code:
        """*code* with the comment after *end* on its line, and the space before it, as written."""
        comment = self.src.trailing_comment(end)
        if comment and code.lines:
            text, protected = code.lines[-1]
            token = self.src.comments[end[0]]
            space = self.src.line(end[0])[end[1] : token.start[1]]
            code.lines[-1] = (f"{text}{space}{comment}", protected)
        elif code.lines:  # the spaces that end the line, if nothing else does
            rest = self.src.line(end[0])[end[1] :]
            if rest and not rest.strip():
                text, protected = code.lines[-1]
                code.lines[-1] = (text + rest, protected)
        return code

    def _header(self, start: Pos, colon_after: Pos, region: Region) -> Code:
        colon = self.src.header_colon(colon_after)
        code = from_pieces(
            self.src, self._spliced(start, colon.end, region), self.src.indent_of(start[0])
        )
        return self._held_header(self._with_trailing_comment(code, colon.end))

    def _clause(self, keyword: str, block: list[ast.stmt], region: Region, after: int) -> Code:
        """An ``else:``/``finally:`` clause header with the comments above it."""
        token = self.src.keyword_before(block[0], keyword)
        out = self._leading(token.start[0], after)
        return out.extend(self._header(token.start, token.end, region))

    def _body(self, block: list[ast.stmt], region: Region, header_line: int) -> Code:
        return self._statements(block, region, header_line).indented("    ")

    def _for(self, stmt: ast.For, region: Region) -> Code:  # type: ignore[override]
        iterator = layout.iterator_name(stmt.lineno)
        start, iter_start, iter_end = (
            self.src.stmt_start(stmt),
            self.src.start(stmt.iter),
            self.src.end(stmt.iter),
        )
        base = self.src.indent_of(start[0])
        iterable = from_pieces(self.src, self._spliced(iter_start, iter_end, region), base)
        # ``for x in a, b:`` iterates a tuple; ``iter(a, b)`` would be the two-argument form.
        bare = self._bare_tuple(stmt.iter, iter_start, iter_end)
        opening, closing = f"{layout.ITER}({'(' if bare else ''}", "))" if bare else ")"
        # black's shape: the iterable on lines of its own; also where one line is too long.
        wrapped = Code.of(f"{iterator} = {opening}").extend(iterable, "    ").add(closing)
        if len(iterable.lines) > 1:
            hoist = self._hold(wrapped)
        else:
            line = from_pieces(self.src, [f"{iterator} = {opening}", iterable, closing], base)
            hoist = self._hold(line, wrapped=wrapped)
        colon = self.src.header_colon(iter_end)
        header = from_pieces(
            self.src,
            [
                *self._spliced(start, iter_start, region),
                iterator,
                *self._spliced(iter_end, colon.end, region),
            ],
            base,
        )
        out = hoist.extend(self._held_header(self._with_trailing_comment(header, colon.end)))
        out.extend(self._body(stmt.body, region.in_loop(), colon.start[0]))
        out = self._orelse(out, stmt, region)
        # The saved iterator goes when the loop ends, as the loop's own reference would
        # (a generator's cleanup runs at the same point as in the original).
        return out.add(f"del {iterator}")

    def _bare_tuple(self, node: ast.expr, start: Pos, end: Pos) -> bool:
        """Whether *node* is a tuple written without its own parentheses (``a, b``, ``a,`` or
        ``(a), (b)``): as a call's argument it would be several arguments, or one."""
        if not isinstance(node, ast.Tuple):
            return False
        listed = ast.parse(f"[{self.src.segment(start, end)}\n]", mode="eval").body
        items = listed.elts  # type: ignore[attr-defined]
        return not (len(items) == 1 and isinstance(items[0], ast.Tuple))

    def _orelse(self, out: Code, stmt: ast.For | ast.While, region: Region) -> Code:
        if stmt.orelse:
            after = self._block_end(stmt.body)
            out.extend(self._clause("else", stmt.orelse, region, after))
            out.extend(self._body(stmt.orelse, region, self._line_of("else", stmt.orelse)))
        return out

    def _line_of(self, keyword: str, block: list[ast.stmt]) -> int:
        return self.src.keyword_before(block[0], keyword).start[0]

    def _while(self, stmt: ast.While, region: Region) -> Code:  # type: ignore[override]
        one_line = self._one_line(stmt, region)
        if one_line is not None:
            return one_line
        header = self._header(self.src.stmt_start(stmt), self.src.end(stmt.test), region)
        out = header.extend(self._body(stmt.body, region.in_loop(), header_line(self, stmt.test)))
        return self._orelse(out, stmt, region)

    def _if(self, stmt: ast.If, region: Region) -> Code:  # type: ignore[override]
        one_line = self._one_line(stmt, region)
        if one_line is not None:
            return one_line
        out = self._header(self.src.stmt_start(stmt), self.src.end(stmt.test), region)
        out.extend(self._body(stmt.body, region, header_line(self, stmt.test)))
        if not stmt.orelse:
            return out
        after = self._block_end(stmt.body)
        first = self._elif_of(stmt)
        if first is not None:
            out.extend(self._leading(first.lineno, after))
            return out.extend(self._if(first, region))
        out.extend(self._clause("else", stmt.orelse, region, after))
        return out.extend(self._body(stmt.orelse, region, self._line_of("else", stmt.orelse)))

    def _elif_of(self, stmt: ast.If) -> ast.If | None:
        """The ``elif`` clause of *stmt* (an ``If`` as its whole ``orelse``), if it has one."""
        if len(stmt.orelse) != 1 or not isinstance(stmt.orelse[0], ast.If):
            return None
        line, column = self.src.start(stmt.orelse[0])
        return stmt.orelse[0] if self.src.line(line)[column:].startswith("elif") else None

    def _match(self, stmt: ast.stmt, region: Region) -> Code:
        out = self._header(self.src.stmt_start(stmt), self.src.end(stmt.subject), region)  # type: ignore[attr-defined]
        after = self.src.header_colon(self.src.end(stmt.subject)).start[0]  # type: ignore[attr-defined]
        for case in stmt.cases:  # type: ignore[attr-defined]
            token = self.src.previous_token(self.src.start(case.pattern), "case")
            last = case.guard if case.guard is not None else case.pattern
            inner = self._leading(token.start[0], after)
            inner.extend(self._header(token.start, self.src.end(last), region))
            inner.extend(self._body(case.body, region, token.start[0]))
            out.extend(inner, "    ")
            after = self._block_end(case.body)
        return out

    def _try(self, stmt: ast.stmt, region: Region) -> Code:
        if stmt.finalbody:  # type: ignore[attr-defined]
            return self._try_finally(stmt, region)
        one_line = self._one_line_try(stmt, region)
        if one_line is not None:
            return one_line
        out = self._header(self.src.stmt_start(stmt), self.src.stmt_start(stmt), region)
        out.extend(self._body(stmt.body, region, stmt.lineno))  # type: ignore[attr-defined]
        after = self._block_end(stmt.body)  # type: ignore[attr-defined]
        for handler in stmt.handlers:  # type: ignore[attr-defined]
            out.extend(self._leading(handler.lineno, after))
            out.extend(self._handler_header(handler, region))
            out.extend(self._body(handler.body, region, self._handler_colon_line(handler)))
            after = self._block_end(handler.body)
        if stmt.orelse:  # type: ignore[attr-defined]
            out.extend(self._clause("else", stmt.orelse, region, after))  # type: ignore[attr-defined]
            line = self._line_of("else", stmt.orelse)  # type: ignore[attr-defined]
            out.extend(self._body(stmt.orelse, region, line))  # type: ignore[attr-defined]
        return out

    def _handler_colon_search(self, handler: ast.ExceptHandler) -> Pos:
        if handler.type is None:
            return self.src.start(handler)
        end = self.src.end(handler.type)
        if handler.name:
            return self.src.next_token(end, handler.name).end
        return end

    def _handler_colon_line(self, handler: ast.ExceptHandler) -> int:
        return self.src.header_colon(self._handler_colon_search(handler)).start[0]

    def _handler_header(self, handler: ast.ExceptHandler, region: Region) -> Code:
        return self._header(self.src.start(handler), self._handler_colon_search(handler), region)

    # -- cells --------------------------------------------------------------------------

    def _cell(
        self, kind: str, line: int, block: list[ast.stmt], header_line: int, what: str
    ) -> Region:
        """Emit *block* as a cell; returns its region (with the signals that can leave it)."""
        name = layout.cell_name(kind, line)
        region = Region(name)
        barrier = self._barrier(block, region, header_line)
        bound = bound_names(block)
        declarations = [
            statement
            for keyword in ("global", "nonlocal")
            for statement in _wrapped(
                keyword, sorted(n for n in bound if self.scope.declaration(n) == keyword)
            )
        ]
        self.cells.append(
            render(
                "cell.py.j2",
                {"barrier": barrier},
                name=name,
                description=f"{what} at {self.origin}:{line}",
                declarations=declarations,
            )
        )
        return region

    def _joined_cells(self) -> Code:
        out = Code()
        for cell in self.cells:
            out.extend(cell)
        return out

    def _with(self, stmt: ast.With, region: Region) -> Code:  # type: ignore[override]
        start = self.src.stmt_start(stmt)
        last_item = stmt.items[-1]
        item_end = self.src.end(last_item.optional_vars or last_item.context_expr)
        colon = self.src.header_colon(item_end)
        if start[0] == colon.end[0]:
            written = self.src.segment(start, colon.end)  # the header as the user wrote it
        else:  # a header over several lines, maybe with comments: on one line, as ast writes it
            items = ", ".join(
                ast.unparse(i.context_expr) + (f" as {ast.unparse(i.optional_vars)}" if i.optional_vars else "")
                for i in stmt.items
            )
            written = f"with {items}:"
        cell = self._cell("with", stmt.lineno, stmt.body, colon.start[0], f"body of `{_shorten(written)}`")
        header = self._header(start, item_end, region)
        return render(
            "with.py.j2",
            {"header": header, "dispatch": self._dispatch(cell, region)},
            cell=cell.cell,
        )

    def _try_finally(self, stmt: ast.stmt, region: Region) -> Code:
        body, handlers = stmt.body, stmt.handlers  # type: ignore[attr-defined]
        orelse, finalbody = stmt.orelse, stmt.finalbody  # type: ignore[attr-defined]
        escapes: set[str] = set()
        body_cell = self._cell("try", stmt.lineno, body, stmt.lineno, "body of `try:`")
        escapes |= body_cell.escapes
        slots = {"try_header": self._header(self.src.stmt_start(stmt), self.src.stmt_start(stmt), region)}
        after = self._block_end(body)
        handler_values = []
        for index, handler in enumerate(handlers):
            header = self._leading(handler.lineno, after).extend(
                self._handler_header(handler, region)
            )
            first = "except" + (f" {ast.unparse(handler.type)}" if handler.type else "") + ":"
            cell = self._cell(
                "except",
                handler.lineno,
                handler.body,
                self._handler_colon_line(handler),
                f"handler `{_shorten(first)}`",
            )
            escapes |= cell.escapes
            slots[f"handler_{index}"] = header
            handler_values.append({"slot": f"handler_{index}", "cell": cell.cell})
            after = self._block_end(handler.body)
        else_cell = None
        if orelse:
            line = self._line_of("else", orelse)
            slots["else_header"] = self._clause("else", orelse, region, after)
            cell = self._cell("else", line, orelse, line, "`else:` of the `try`")
            escapes |= cell.escapes
            else_cell = cell.cell
            after = self._block_end(orelse)
        line = self._line_of("finally", finalbody)
        slots["finally_header"] = self._clause("finally", finalbody, region, after)
        finally_cell = self._cell("finally", line, finalbody, line, "`finally:` of the `try`")
        combined = Region(None, escapes=escapes)
        slots["dispatch"] = self._dispatch(combined, region)
        return render(
            "try_finally.py.j2",
            slots,
            body_cell=body_cell.cell,
            handlers=handler_values,
            else_cell=else_cell,
            finally_cell=finally_cell.cell,
        )

    def _dispatch(self, cell: Region, region: Region) -> Code:
        can_break = layout.BREAK in cell.escapes and region.loop_depth > 0
        can_continue = layout.CONTINUE in cell.escapes and region.loop_depth > 0
        if region.cell is not None:
            region.escapes |= {
                s
                for s in cell.escapes
                if s == "return" or (s in (layout.BREAK, layout.CONTINUE) and not region.loop_depth)
            }
        return render(
            "dispatch.py.j2",
            can_break=can_break,
            can_continue=can_continue,
            handover="leave" if region.cell is None else "propagate",
        )

    # -- text with edits ----------------------------------------------------------------

    def _spliced(self, start: Pos, end: Pos, region: Region) -> list[Piece]:
        """The text between *start* and *end* as pieces, with expression edits applied."""
        return _splice(start, end, self._expression_edits(start, end, region))

    def _expression_edits(self, start: Pos, end: Pos, region: Region) -> list[Edit]:
        edits: list[Edit] = []
        for call_start, _, node in self._calls:
            if call_start < start:
                continue
            if call_start >= end:
                break
            if self.src.end(node) <= end:
                edit = self._call_edit(node, region)
                if edit is not None:
                    edits.append(edit)
        return edits

    def _call_edit(self, call: ast.Call, region: Region) -> Edit | None:
        name = call.func.id if isinstance(call.func, ast.Name) else None
        start, end = self.src.start(call), self.src.end(call)
        if (
            name == "super"
            and not call.args
            and not call.keywords
            and region.cell is not None
            and self.method_self
        ):
            return (self.src.end(call.func), end, [f"(__class__, {self.method_self})"])
        if not self.scope.script or call.keywords:
            return None
        if name in ("locals", "vars") and not call.args:
            return (start, end, ["globals()"])
        if name == "dir" and not call.args:
            return (start, end, ["sorted(globals())"])
        if name in ("exec", "eval") and len(call.args) == 1:
            arg = call.args[0]
            return (
                start,
                end,
                [f"{name}(", (self.src.start(arg), self.src.end(arg)), ", globals())"],
            )
        return None

    def _opaque(self, stmt: ast.stmt) -> Code:
        """A nested ``def``/``class``: its text, with nested vaccinated functions substituted."""
        if id(stmt) in self.substitutions:
            return Code().extend(self.substitutions[id(stmt)])
        start, end = self.src.stmt_start(stmt), self.src.end(stmt)
        edits = self._substitution_edits(stmt)
        stop = max([end, *(edit[1] for edit in edits)])  # an edit may take the comment after it
        code = from_pieces(self.src, _splice(start, stop, edits), self.src.indent_of(start[0]))
        if stop == end:
            code = self._with_trailing_comment(code, end)
        return self._held(code, not edits, scope=True)

    def _substitution_edits(self, stmt: ast.stmt) -> list[Edit]:
        """Edits putting the vaccinated code of nested functions in *stmt*'s text; the other
        nested ``def``/``class`` statements beside them are held out of formatting (black
        would otherwise reformat, for example, every method of a class with one vaccinated)."""
        base = self._width(self.src.stmt_start(stmt)[0])
        edits: list[Edit] = []
        holding = [n for n in ast.walk(stmt) if n is not stmt and id(n) in self.substitutions]
        if not holding:
            return edits
        for node in holding:
            start, end = self.src.stmt_start(node), self.src.end(node)  # type: ignore[arg-type]
            code = _indent_rest(self.substitutions[id(node)], self._width(start[0]) - base)
            stop = self._past_trailing_comment(end)
            if self.ends.get(id(node), 0) > stop[0]:  # its code holds closing comments below it
                stop = (self.ends[id(node)], len(self.src.line(self.ends[id(node)])))
            edits.append((start, stop, [code]))
        if self.kept is not None:
            edits += self._held_scopes(stmt)
        return edits

    def _held_scopes(self, stmt: ast.stmt) -> list[Edit]:
        """Placeholders for all of the user's text in *stmt* around the vaccinated functions in
        it: its headers (and its clauses'), its comment lines, and every statement in it that
        holds no vaccinated function (a ``def``/``class`` as a stub); the statements that do
        hold one are searched further."""
        edits = [self._held_header_edit(start, colon, stmt) for start, colon in self._headers(stmt)]
        for token in self._comment_tokens(stmt):
            edits.append((token.start, token.end, [self._comment_line(token.start[0])]))
        for child in _child_statements(stmt):
            if id(child) in self.substitutions:
                continue
            if any(id(n) in self.substitutions for n in ast.walk(child)):
                edits += self._held_scopes(child)
                continue
            scope = isinstance(child, _SCOPES)
            start = self.src.stmt_start(child)
            end = self.src.end(child) if scope or hasattr(child, "body") else self._simple_end(child)
            code = from_pieces(self.src, [(start, end)], self.src.indent_of(start[0]))
            code = self._with_trailing_comment(code, end)  # the placeholder ends with `...`
            edits.append((start, self._past_trailing_comment(end), [self.kept.hold(code, scope=scope)]))  # type: ignore[union-attr]
        return edits

    def _held_header_edit(self, start: Pos, colon: Pos, stmt: ast.stmt) -> Edit:
        code = from_pieces(self.src, [(start, colon)], self.src.indent_of(start[0]))
        code = self._with_trailing_comment(code, colon)
        form = None
        if start == self.src.stmt_start(stmt) and isinstance(stmt, _SCOPES):
            form = "class {}:" if isinstance(stmt, ast.ClassDef) else "def {}():"
        return (start, self._past_trailing_comment(colon), [self._held_header(code, form)])

    def _headers(self, stmt: ast.stmt) -> list[tuple[Pos, Pos]]:
        """``(start, end)`` of *stmt*'s header and of its clauses' (``else:``, ``except ...:``,
        ``finally:``, ``case ...:``); an ``elif`` is the header of the ``If`` in ``orelse``."""
        src = self.src
        start = src.stmt_start(stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            after = self._def_colon_search(stmt)  # type: ignore[arg-type]
        elif isinstance(stmt, (ast.If, ast.While)):
            after = src.end(stmt.test)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            after = src.end(stmt.iter)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            item = stmt.items[-1]
            after = src.end(item.optional_vars or item.context_expr)
        elif hasattr(ast, "Match") and isinstance(stmt, ast.Match):
            after = src.end(stmt.subject)
        else:  # class, try
            after = src.start(stmt)
        out = [(start, src.header_colon(after).end)]
        for handler in getattr(stmt, "handlers", []):
            out.append((src.start(handler), src.header_colon(self._handler_colon_search(handler)).end))
        for case in getattr(stmt, "cases", []):
            token = src.previous_token(src.start(case.pattern), "case")
            out.append((token.start, src.header_colon(src.end(case.guard or case.pattern)).end))
        orelse = getattr(stmt, "orelse", None)
        if orelse and not (isinstance(stmt, ast.If) and self._elif_of(stmt) is not None):
            token = src.keyword_before(orelse[0], "else")
            out.append((token.start, src.header_colon(token.end).end))
        if getattr(stmt, "finalbody", None):
            token = src.keyword_before(stmt.finalbody[0], "finally")  # type: ignore[attr-defined]
            out.append((token.start, src.header_colon(token.end).end))
        return out

    def _comment_tokens(self, stmt: ast.stmt) -> list:  # type: ignore[type-arg]
        """The comment-only lines inside *stmt* (those inside held statements are dropped by
        :func:`_splice` as edits nested in theirs)."""
        first, last = self.src.stmt_start(stmt)[0], stmt.end_lineno or stmt.lineno
        return [
            token
            for number, token in self.src.comments.items()
            if first < number <= last and self.src.is_comment_line(number)
        ]

    def _past_trailing_comment(self, end: Pos) -> Pos:
        """*end*, or the end of the comment after it on its line: a statement's replacement
        carries that comment already."""
        comment = self.src.comments.get(end[0]) if self.src.trailing_comment(end) else None
        return comment.end if comment is not None else end

    def _width(self, line: int) -> int:
        """Indentation of *line* in columns (tabs to the next multiple of 8, as Python)."""
        return columns(self.src.indent_of(line))

    # -- function pieces ----------------------------------------------------------------

    def _def_colon_search(self, func: ast.FunctionDef) -> Pos:
        if func.returns is not None:
            return self.src.end(func.returns)
        return self.src.closing_bracket(self.src.start(func)).end

    def _def_header(self, func: ast.FunctionDef, drop: Sequence[ast.expr]) -> Code:
        """Decorators and signature as written, minus daifu's own marker decorators."""
        start = self.src.stmt_start(func)
        colon = self.src.header_colon(self._def_colon_search(func))
        code = from_pieces(self.src, [(start, colon.end)], self.src.indent_of(start[0]))
        dropped = {
            number
            for decorator in drop
            for number in range(
                self.src.previous_token(self.src.start(decorator), "@").start[0],
                self.src.end(decorator)[0] + 1,
            )
        }
        # A dropped decorator's line goes, but a comment on it stays, as a line of its own.
        code.lines = [
            (self.src.comments[number].string, False) if number in dropped else line
            for number, line in enumerate(code.lines, start[0])
            if number not in dropped or number in self.src.comments
        ]
        return self._with_trailing_comment(code, colon.end)

    def _declarations(self, func: ast.FunctionDef) -> list[str]:
        """Variables first bound inside cells: the function must bind them for the cells'
        ``nonlocal`` to refer to; an annotation binds a local and runs no code."""
        in_cells = set()
        for block in self.scope.cell_bodies:
            in_cells |= bound_names(block)
        names = sorted(
            n
            for n in in_cells
            if n not in self.scope.bound_outside_cells
            and n not in self.scope.globals
            and n not in self.scope.nonlocals
        )
        out = []
        for name in names:
            annotation = self.scope.annotations.get(name)
            if annotation is None:
                out.append(f"{name}: ...")
                continue
            # The user's annotation, as written and held out of black like the rest of their text.
            written = from_pieces(self.src, [f"{name}: ", (self.src.start(annotation), self.src.end(annotation))], "")
            out.append(self._hold(written).text() if self.kept is not None else written.text())
        return out


#: Placeholders for a held compound statement's header, by keyword: black treats the block
#: below as it would under the real header.
#: One clause of a compound statement: where its header starts, a position its colon follows,
#: its block, and the regions its header and its block run in.
_Clause = tuple[Pos, Pos, list[ast.stmt], "Region", "Region"]


_HEADER_FORMS = {
    "if": "if {}:",
    "elif": "elif {}:",
    "while": "while {}:",
    "for": "for {} in _:",
    "with": "with {}:",
    "except": "except {}:",
    "except*": "except* {}:",
    "match": "match {}:",
    "case": "case {}():",
    "else": "else:  # {}",
    "try": "try:  # {}",
    "finally": "finally:  # {}",
}


def _with_decorator(header: Code, decorator: str) -> Code:
    """*header* with *decorator* as its innermost decorator (right above ``def``)."""
    lines = list(header.lines)
    for index, (text, protected) in enumerate(lines):
        if not protected and (text.startswith("def ") or text.startswith("async def ")):
            lines.insert(index, (decorator, False))
            break
    return Code(lines)


def header_line(emitter: Emitter, node: ast.expr) -> int:
    return emitter.src.header_colon(emitter.src.end(node)).start[0]


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _last_block(stmt: ast.stmt) -> list[ast.stmt] | None:
    if type(stmt) in SIMPLE_STATEMENTS:  # most statements: no block
        return None
    for name in ("finalbody", "orelse"):
        block = getattr(stmt, name, None)
        if block:
            return block  # type: ignore[no-any-return]
    handlers = getattr(stmt, "handlers", None)
    if handlers:
        return handlers[-1].body  # type: ignore[no-any-return]
    cases = getattr(stmt, "cases", None)
    if cases:
        return cases[-1].body  # type: ignore[no-any-return]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None  # nested scopes are copied whole, comments included
    return getattr(stmt, "body", None) or None


def _child_statements(node: ast.AST) -> list[ast.stmt]:
    """The statements of *node*'s blocks (body, handlers, cases, else, finally), in order."""
    out: list[ast.stmt] = []
    for name in ("body", "handlers", "cases", "orelse", "finalbody"):
        for item in getattr(node, name, None) or []:
            if isinstance(item, ast.stmt):
                out.append(item)
            else:  # an except handler or a match case: its body
                out.extend(item.body)
    return out


def _splice(start: Pos, end: Pos, edits: list[Edit]) -> list[Piece]:
    """Pieces for the span with the outermost *edits* inside it applied (recursively)."""
    inside = sorted((e for e in edits if start <= e[0] and e[1] <= end), key=lambda e: e[0])
    outer: list[Edit] = []
    for edit in inside:
        if outer and edit[0] < outer[-1][1]:
            continue  # nested in the previous edit; handled when its spans are spliced
        outer.append(edit)
    pieces: list[Piece] = []
    cursor = start
    for e_start, e_end, replacement in outer:
        if cursor < e_start:
            pieces.append((cursor, e_start))
        for piece in replacement:
            if isinstance(piece, tuple):
                pieces.extend(_splice(piece[0], piece[1], edits))
            else:
                pieces.append(piece)
        cursor = e_end
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def _indent_rest(code: Code, width: int) -> Code:
    """*code* with every line but the first indented by *width* spaces."""
    if not code.lines or width <= 0:
        return code
    first, rest = code.lines[0], Code(code.lines[1:]).indented(" " * width)
    return Code([first, *rest.lines])


def _wrapped(keyword: str, names: list[str]) -> list[str]:
    """``global``/``nonlocal`` statements for *names*, split to stay readable."""
    lines: list[str] = []
    current: list[str] = []
    for name in names:
        if current and len(keyword) + 1 + len(", ".join([*current, name])) > _LINE_LIMIT:
            lines.append(f"{keyword} {', '.join(current)}")
            current = []
        current.append(name)
    if current:
        lines.append(f"{keyword} {', '.join(current)}")
    return lines


def _shorten(text: str, limit: int = 60) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."
