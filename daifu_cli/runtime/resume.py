"""Build the code that resumes a crashed function: a *continuation*.

A continuation is compiled from the vaccinated code it resumes (the running version, or the
fixed one): the statements of one region (the function's own frame, or one cell) from the
resume position on. Loops that were running are re-entered with the iterator they had, the
interrupted iteration first::

    _daifu_broke_1 = False
    for _daifu_once in (None,):      # the rest of the interrupted iteration
        <remaining statements; `break` also sets _daifu_broke_1>
    if not _daifu_broke_1:
        for batch in _daifu_it_L12:   # the same iterator: no batch is pulled twice
            <loop body>
        else:
            <loop else>

Statements a fix put around the crash (a new ``try``, ``if`` or ``with``; see :mod:`.wrapping`)
are *entered*: written out with the rest of their block as their block, so their handlers,
test or manager apply from the resume position on (a ``with`` body, which runs in a cell,
through a cut copy of that cell).

The continuation has the function's cells and crash barrier, so a later crash in it is
intercepted like any other. It is compiled as a closure over the context's cells, so it
reads and writes the same variables as the code it replaces.
"""

from __future__ import annotations

import ast
import copy
import itertools
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import layout, logical, registry, signals
from .align import Position
from .context import Context
from .frames import statement_at
from .names import bound_names, own_nodes, walk

RESUME_NAME = layout.CONTINUATION
HANDLED = "_daifu_handled"
_counter = itertools.count(1)

_BARRIER = f"""
try:
    pass
except BaseException as {layout.EXC}:
    {layout.RESUME} = {layout.RUNTIME}.crash({layout.EXC})
    if {layout.RESUME} is None:
        raise
else:
    return None
return {layout.RESUME}()
"""


@dataclass
class Built:
    """A compiled continuation, ready to call."""

    function: Callable[[], Any]
    record: registry.ContinuationRecord
    #: The cell whose block it resumes, or ``None`` for the function's own body.
    region: str | None
    #: Path of the statement that owns the region's block (``None`` for the function body).
    owner: tuple | None


def block_at(view: logical.Function, path: tuple) -> logical.Block:
    if not path:
        return view.body
    return statement_at(view.body, path[:-1]).blocks[path[-1]]


def region_of(
    view: logical.Function, block_path: tuple, entered: tuple[tuple, ...] = ()
) -> tuple[str | None, tuple | None]:
    """The region (cell name) of the block at *block_path*, and the path of its owner. The
    cells of *entered* statements (new around the crash) run inside the continuation."""
    path = block_path
    while path:
        owner_path, name = path[:-1], path[-1]
        owner = statement_at(view.body, owner_path)
        if name in owner.cells and owner_path not in entered:
            return owner.cells[name], owner_path
        if owner.region is not None:
            # An inline block inside a cell: keep climbing to the cell's own block.
            path = owner_path[:-1]
            continue
        return None, None
    return None, None


def build(
    view: logical.Function,
    position: Position,
    ctx: Context,
    *,
    module: registry.ModuleRecord,
    qualname: str,
    class_name: str | None = None,
    self_name: str | None = None,
    generation: registry.Generation | None = None,
) -> Built:
    """Compile the continuation of *view* at *position* over *ctx*'s variables (*view* read
    from *generation* of *module*, by default the newest)."""
    for old, new in position.iterators:
        ctx.alias(new, old)
    region, owner = region_of(view, position.block, position.entered)
    copier = _Copier(view)
    names = _variables(view, ctx)
    body = _rest(view, position, copier, region, names)
    if not body:
        body = [ast.Pass()]
    if region is None and self_name:
        body = [_with_explicit_super(s, self_name) for s in body]
    cells = [copier.copy(c) for c in view.cells.values()]
    declarations = _declarations(view, region, names, ctx.script)
    name = region or RESUME_NAME
    function = ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        ),
        body=[*declarations, *cells, *_barrier(body)],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    factory = ast.FunctionDef(
        name="_daifu_factory",
        args=function.args,
        body=[*(_bind(n) for n in sorted(names)), function],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    _fill_type_params(function)
    _fill_type_params(factory)
    top: ast.stmt = factory
    if class_name:
        top = ast.ClassDef(name=class_name, bases=[], keywords=[], body=[factory], decorator_list=[])
        _fill_type_params(top)
    tree = ast.Module(body=[top], type_ignores=[])
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree) + "\n"
    filename = f"<daifu resume {next(_counter)}: {qualname} in {module.path.rsplit('/', 1)[-1]}>"
    reparsed = ast.parse(text, filename)
    lines = copier.line_map(tree, reparsed)
    origins = copier.origin_lines(view, tree, reparsed)
    code = compile(reparsed, filename, "exec", dont_inherit=True)
    inner = _find_code(code, name, parent="_daifu_factory")
    user_name = "<module>" if ctx.script else view.node.name
    factory_qualname = f"{class_name}._daifu_factory" if class_name else "_daifu_factory"
    inner = signals.named(
        inner, user_name, qualname, cell=region, compiled=f"{factory_qualname}.<locals>.{name}"
    )
    closure = tuple(ctx.cell(n) for n in inner.co_freevars)
    runnable = types.FunctionType(inner, ctx.globals, name, None, closure)
    record = registry.ContinuationRecord(
        filename, text, view, lines, ctx, module, qualname, generation or module.current, origins
    )
    registry.add_continuation(record)
    return Built(runnable, record, region, owner)


def first_statement(view: logical.Function, position: Position) -> tuple[logical.Stmt | None, bool]:
    """The user statement the continuation starts with, and whether that is a loop going on
    with its next iteration; ``(None, False)`` when it only returns. What the log says it
    resumed at."""
    path, index = position.block, position.index
    block = block_at(view, path)
    if position.loop_next and index < len(block):
        return block[index], True
    while index >= len(block):
        if not path:
            return None, False
        owner_path, name = path[:-1], path[-1]
        owner = statement_at(view.body, owner_path)
        if isinstance(owner.node, (ast.For, ast.While)) and name == "body":
            return owner, True
        following = [n for n in ("orelse", "finalbody") if n in owner.blocks] if _is_try(owner.node) else []
        if name == "orelse" or name.startswith("handler"):
            following = following[1:] if following[:1] == ["orelse"] else following
        if name != "finalbody" and following:
            path, index, block = (*owner_path, following[0]), 0, owner.blocks[following[0]]
            continue
        path, index = owner_path[:-1], owner_path[-1] + 1
        block = block_at(view, path)
    return block[index], False


# -- the statements to run -------------------------------------------------------------


def _rest(
    view: logical.Function, position: Position, copier: _Copier, region: str | None, names: set[str]
) -> list[ast.stmt]:
    block = block_at(view, position.block)
    out: list[ast.stmt] = []
    start = position.index
    if position.loop_next and start < len(block):
        out.append(_loop_without_hoist(block[start], copier))
        out.extend(copier.copy(n) for n in block[start].suffix)
        start += 1
    for stmt in block[start:]:
        out.extend(copier.copy_stmt(stmt))
    path = position.block
    while path:
        owner_path, name = path[:-1], path[-1]
        owner = statement_at(view.body, owner_path)
        entered = owner_path in position.entered
        if name in owner.cells and not entered:
            break  # the top block of a cell: the region ends here
        if name in owner.cells:
            out = _enter_cell(view, owner, name, out, copier, names)
        else:
            out = _reenter(owner, name, out, copier, entered=entered)
        parent = block_at(view, owner_path[:-1])
        for stmt in parent[owner_path[-1] + 1 :]:
            out.extend(copier.copy_stmt(stmt))
        path = owner_path[:-1]
    return out


def _enter_cell(
    view: logical.Function, owner: logical.Stmt, name: str, inner: list[ast.stmt], copier: _Copier,
    names: set[str],
) -> list[ast.stmt]:
    """Enter a new ``with`` (or ``try`` with ``finally``) whose block *name* is a cell, at
    *inner* (the rest of that block). The statement runs as written, calling a cut copy of
    the cell defined just before it; the whole cell is defined again after it, for the
    enclosing loop's next iterations. A crash in the cut cell resumes like one in the cell.

    The cut copy shares the cell's own locals with the continuation (*names*, the context's
    variables): the statements of the block that already ran set them (a loop's saved
    iterator, its target), and the rest of the block reads them."""
    cell = owner.cells[name]
    definition, barrier = view.cells[cell], view.cell_barriers[cell]
    declared = {n for s in definition.body if isinstance(s, (ast.Nonlocal, ast.Global)) for n in s.names}
    own = sorted((bound_names(barrier.body) & names) - declared - {layout.EXC, layout.RESUME})
    body = [copier.clone(s, body=inner or [ast.Pass()]) if s is barrier else copier.copy(s) for s in definition.body]
    if own:
        body.insert(0, ast.Nonlocal(own))
    return [copier.clone(definition, body=body), *copier.copy_stmt(owner), copier.copy(definition)]


def _loop_without_hoist(stmt: logical.Stmt, copier: _Copier) -> ast.stmt:
    """A loop that goes on with the iterator it has (no new ``iter()``)."""
    return copier.copy(stmt.node)


def _reenter(
    owner: logical.Stmt, name: str, inner: list[ast.stmt], copier: _Copier, *, entered: bool = False
) -> list[ast.stmt]:
    """*inner* (the rest of *owner*'s block *name*) wrapped so that it goes on as *owner* would.
    *entered*: *owner* is new (a fix put it around the crash): its test is evaluated now."""
    node = owner.node
    if entered and isinstance(node, ast.If):
        return [copier.clone(node, **{name: inner or [ast.Pass()]})]
    if isinstance(node, (ast.For, ast.While)) and name == "body":
        flag = f"{layout.PREFIX}broke_{next(_counter)}"
        once = ast.For(
            target=ast.Name(f"{layout.PREFIX}once", ast.Store()),
            iter=ast.Tuple([ast.Constant(None)], ast.Load()),
            body=_mark_breaks(inner, flag) or [ast.Pass()],
            orelse=[],
            type_comment=None,
        )
        loop = copier.copy(node)
        return [
            ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False), type_comment=None),
            once,
            ast.If(ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load())), [loop], []),
            *(copier.copy(n) for n in owner.suffix),
        ]
    if _is_try(node) and name == "body":
        return [copier.clone(node, body=inner or [ast.Pass()])]
    if _is_try(node) and name.startswith("handler"):
        handler = node.handlers[int(name[len("handler") :])]  # type: ignore[attr-defined]
        bind: list[ast.stmt] = []
        if handler.name:
            bind = [ast.Assign([ast.Name(handler.name, ast.Store())], ast.Name(HANDLED, ast.Load()), type_comment=None)]
        return [*bind, *_reraise_handled(inner)]
    return inner  # if/elif/else, match cases, loop else: the rest of the block, then on


def _is_try(node: ast.AST) -> bool:
    return isinstance(node, ast.Try) or type(node).__name__ == "TryStar"


def _mark_breaks(stmts: list[ast.stmt], flag: str) -> list[ast.stmt]:
    """Make each ``break`` of this loop level also set *flag* (it skips the loop's rest)."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.Break):
            out.append(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True), type_comment=None))
            out.append(stmt)
            continue
        if not isinstance(stmt, (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field_name in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field_name, None)
                if block:
                    setattr(stmt, field_name, _mark_breaks(block, flag))
            for handler in getattr(stmt, "handlers", []):
                handler.body = _mark_breaks(handler.body, flag)
            for case in getattr(stmt, "cases", []):
                case.body = _mark_breaks(case.body, flag)
        elif isinstance(stmt, (ast.For, ast.While)):
            stmt.orelse = _mark_breaks(stmt.orelse, flag)  # a loop's else belongs to this level
        out.append(stmt)
    return out


def _reraise_handled(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Inside a resumed ``except`` block, a bare ``raise`` re-raises the handled exception."""
    for node in own_nodes(stmts):
        if isinstance(node, ast.Raise) and node.exc is None:
            node.exc = ast.Name(HANDLED, ast.Load())
    return stmts


def _with_explicit_super(stmt: ast.stmt, self_name: str) -> ast.stmt:
    for node in own_nodes([stmt]):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "super"
            and not node.args
            and not node.keywords
        ):
            node.args = [ast.Name("__class__", ast.Load()), ast.Name(self_name, ast.Load())]
    return stmt


# -- names and wrapping ------------------------------------------------------------------


def _variables(view: logical.Function, ctx: Context) -> set[str]:
    """Every variable the continuation shares through a closure cell."""
    names = {n for n in ctx.cells if not _is_cell_function_name(n)}
    if ctx.script:
        names = {n for n in names if layout.is_generated_name(n) or n == HANDLED}
        names |= {n for n in _all_bound(view) if n.startswith(layout.PREFIX)}
    else:
        names |= _all_bound(view) - _declared_globals(view)
    names.add(HANDLED)
    return {n for n in names if n not in (layout.EXC, layout.RESUME, layout.SIGNAL) and not _is_cell_function_name(n)}


def _is_cell_function_name(name: str) -> bool:
    return layout.parse_cell_name(name) is not None or name == layout.CELLS_PROBE


def _all_bound(view: logical.Function) -> set[str]:
    stmts: list[ast.stmt] = []
    if view.barrier is not None:
        stmts.extend(view.barrier.body)
    for barrier in view.cell_barriers.values():
        stmts.extend(barrier.body)
    return bound_names(stmts)


def _declared_globals(view: logical.Function) -> set[str]:
    found = set()
    for node in own_nodes(view.node.body):
        if isinstance(node, ast.Global):
            found.update(node.names)
    for cell in view.cells.values():
        for node in own_nodes(cell.body):
            if isinstance(node, ast.Global):
                found.update(node.names)
    return found


def _declarations(view: logical.Function, region: str | None, names: set[str], script: bool) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    if script:
        globals_ = set(_script_globals(view))
        if region is not None:
            globals_ |= _cell_globals(view.cells[region])
        if globals_:
            out.append(ast.Global(sorted(globals_)))
    elif region is not None:
        globals_ = _cell_globals(view.cells[region])
        if globals_:
            out.append(ast.Global(sorted(globals_)))
        names = names - globals_
    shared = sorted(names)
    if shared:
        out.append(ast.Nonlocal(shared))
    return out


def _script_globals(view: logical.Function) -> list[str]:
    return [n for s in view.node.body if isinstance(s, ast.Global) for n in s.names]


def _cell_globals(cell: ast.FunctionDef) -> set[str]:
    return {n for s in cell.body if isinstance(s, ast.Global) for n in s.names}


def _bind(name: str) -> ast.stmt:
    """``name: ...``: makes *name* a variable of the factory without running anything."""
    return ast.AnnAssign(ast.Name(name, ast.Store()), ast.Constant(...), None, simple=1)


def _barrier(body: list[ast.stmt]) -> list[ast.stmt]:
    stmts = ast.parse(_BARRIER).body
    stmts[0].body = body  # type: ignore[attr-defined]
    return stmts


def _fill_type_params(node: ast.AST) -> None:
    if "type_params" in getattr(type(node), "_fields", ()):
        node.type_params = []  # type: ignore[attr-defined]


def _find_code(code: types.CodeType, name: str, parent: str) -> types.CodeType:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name and code.co_name == parent:
                return const
            found = _find_code_or_none(const, name, parent)
            if found is not None:
                return found
    raise LookupError(name)


def _find_code_or_none(code: types.CodeType, name: str, parent: str) -> types.CodeType | None:
    try:
        return _find_code(code, name, parent)
    except LookupError:
        return None


# -- copying with a map back to the user's statements ---------------------------------------


class _Copier:
    """Deep-copies vaccinated statements, remembering which logical statement each came from."""

    def __init__(self, view: logical.Function) -> None:
        self.origins: dict[int, tuple[tuple, str]] = {}
        for path, stmt in logical.walk(view.body):
            self.origins[id(stmt.node)] = (path, _phase_of(stmt.node))
            if stmt.hoist is not None:
                self.origins[id(stmt.hoist)] = (path, "iter")
        self.memo: dict[int, Any] = {}
        #: Origins of the statements :meth:`clone` made (they are not in the memo).
        self.extra: dict[int, tuple[tuple, str]] = {}

    def copy(self, node: Any) -> Any:
        return copy.deepcopy(node, self.memo)

    def copy_stmt(self, stmt: logical.Stmt) -> list[ast.stmt]:
        return [self.copy(n) for n in stmt.vaccinated()]

    def clone(self, node: ast.stmt, **blocks: list[ast.stmt]) -> ast.stmt:
        """A copy of *node* with *blocks* in place of its own. The memo's copy of *node* stays
        whole: an enclosing loop copied later runs the whole statement in its next iterations
        (cutting the memo's copy made them run only the resumed rest)."""
        clone = copy.copy(node)
        for name, value in ast.iter_fields(node):
            setattr(clone, name, blocks[name] if name in blocks else self.copy(value))
        if id(node) in self.origins:
            self.extra[id(clone)] = self.origins[id(node)]
        return clone

    def line_map(self, built: ast.Module, reparsed: ast.Module) -> dict[int, tuple[tuple, str]]:
        """Lines of the compiled text -> (logical path, phase) for every copied statement."""
        copies = {id(self.memo[k]): v for k, v in self.origins.items() if k in self.memo}
        copies.update(self.extra)
        lines: dict[int, tuple[tuple, str]] = {}
        for old, new in zip(_statements(built), _statements(reparsed)):
            found = copies.get(id(old))
            if found is None:
                continue
            for line in _own_lines(new):
                lines[line] = found  # ast.walk goes outside in: inner statements win
        return lines


    def origin_lines(self, view: logical.Function, built: ast.Module, reparsed: ast.Module) -> dict[int, int]:
        """Lines of the compiled text -> the line of the vaccinated statement each copies,
        for every statement, also those inside defs and classes the copied code holds (a
        function the resumed code defines reports its own lines, not its def's)."""
        scopes: list[ast.AST] = [view.node, *view.cells.values()]
        originals = {
            id(self.memo[id(node)]): node.lineno
            for scope in scopes
            for node in walk(scope)
            if isinstance(node, ast.stmt) and id(node) in self.memo
        }
        lines: dict[int, int] = {}
        for old, new in zip(_statements(built), _statements(reparsed)):
            found = originals.get(id(old))
            if found is not None:
                for line in _own_lines(new):
                    lines[line] = found  # outside in: inner statements win
        return lines


def _statements(tree: ast.AST) -> list[ast.stmt]:
    return [n for n in walk(tree) if isinstance(n, ast.stmt)]


def _own_lines(node: ast.stmt) -> range:
    body = getattr(node, "body", None)
    if body and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return range(node.lineno, max(body[0].lineno, node.lineno + 1))
    if type(node).__name__ == "Match":
        return range(node.lineno, max(node.cases[0].pattern.lineno, node.lineno + 1))  # type: ignore[attr-defined]
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def _phase_of(node: ast.stmt) -> str:
    if isinstance(node, ast.For):
        return "next"
    if isinstance(node, ast.With):
        return "enter"
    if isinstance(node, (ast.If, ast.While)) or type(node).__name__ == "Match":
        return "test"
    return "run"
