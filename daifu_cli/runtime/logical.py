"""Read vaccinated code back as the user's program: the *logical* view of a function.

A vaccinated function spreads one user block over several places: a ``with`` body lives in a
cell defined at the top of the function, a ``for`` header is preceded by the line that saves
its iterator, and signals and dispatches sit between statements. :func:`logical_function`
folds that back into the user's structure (:class:`Stmt` trees), remembering for each user
statement where it runs (the root frame or which cell) and where it is in the vaccinated tree.

The runtime uses this view to say which user statement crashed, to align the running code with
a fixed version, and to cut the statements to resume. The transpiler uses it to check its own
output: the logical view of the output must equal the input function, statement for statement.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from . import layout
from .names import SIMPLE_STATEMENTS

#: Blocks of compound statements, in source order: (field name, label) pairs.
Block = list["Stmt"]


@dataclass
class Stmt:
    """One user statement in the logical view."""

    #: The statement in the vaccinated tree (for a ``for``: the loop, not the iterator line).
    node: ast.stmt
    #: The cell whose frame runs the statement, or ``None`` for the function's own frame.
    region: str | None
    #: Sub-blocks by name: ``body``, ``orelse``, ``finalbody``, ``handler<i>``, ``case<i>``.
    blocks: dict[str, Block] = field(default_factory=dict)
    #: For a ``for`` loop: the statement that saves its iterator, and that iterator's name.
    hoist: ast.stmt | None = None
    iterator: str | None = None
    #: For ``with`` and ``try`` statements whose blocks run as cells: block name -> cell name.
    cells: dict[str, str] = field(default_factory=dict)
    #: Vaccinated statements written before it (iterator line, signal reset) and after it
    #: (the dispatch of a cell's signal).
    prefix: list[ast.stmt] = field(default_factory=list)
    suffix: list[ast.stmt] = field(default_factory=list)

    def vaccinated(self) -> list[ast.stmt]:
        """The statement as it stands in the vaccinated code, scaffolding included."""
        return [*self.prefix, self.node, *self.suffix]

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    def children(self) -> list[tuple[str, Block]]:
        return list(self.blocks.items())

    def first_line(self) -> int:
        return (self.prefix[0] if self.prefix else self.node).lineno

    def own_lines(self) -> range:
        """Vaccinated lines of the statement itself: all of a simple statement, the header
        of a compound one (up to its first block)."""
        node = self.node
        if not self.blocks:
            return range(node.lineno, node.end_lineno + 1)  # type: ignore[operator]
        body = getattr(node, "body", None)
        # a match statement's header ends before its first case
        first = body[0].lineno if body else node.cases[0].pattern.lineno  # type: ignore[attr-defined]
        return range(node.lineno, max(first, node.lineno + 1))


@dataclass
class Function:
    """The logical view of one vaccinated function (or script function)."""

    node: ast.FunctionDef
    body: Block
    #: Cells by name.
    cells: dict[str, ast.FunctionDef]
    #: Where each cell's body starts in its barrier (the ``try`` statement).
    cell_barriers: dict[str, ast.Try]
    barrier: ast.Try | None


class NotVaccinated(ValueError):
    """The function is not in the shape daifu writes."""


def barrier_of(func: ast.FunctionDef) -> ast.Try | None:
    """The crash barrier ``try`` of a vaccinated function or cell, if it has one."""
    for stmt in func.body:
        if isinstance(stmt, ast.Try) and _is_barrier(stmt):
            return stmt
    return None


def _is_barrier(stmt: ast.Try) -> bool:
    if len(stmt.handlers) != 1:
        return False
    handler = stmt.handlers[0]
    return (
        handler.name == layout.EXC
        and isinstance(handler.type, ast.Name)
        and handler.type.id == "BaseException"
    )


def logical_function(func: ast.FunctionDef) -> Function:
    """Fold the vaccinated *func* back into the user's statements."""
    barrier = barrier_of(func)
    if barrier is None:
        raise NotVaccinated(f"{func.name} has no crash barrier")
    cells = {
        s.name: s
        for s in func.body
        if isinstance(s, ast.FunctionDef) and layout.parse_cell_name(s.name)
    }
    cell_barriers = {}
    for name, cell in cells.items():
        cell_barrier = barrier_of(cell)
        if cell_barrier is None:
            raise NotVaccinated(f"cell {name} has no crash barrier")
        cell_barriers[name] = cell_barrier
    folder = _Folder(cells, cell_barriers)
    body = folder.block(barrier.body, None)
    docstring = func.body[0] if _is_docstring(func.body[0]) else None
    if docstring is not None:
        body.insert(0, Stmt(docstring, None))
    return Function(func, body, cells, cell_barriers, barrier)


class _Folder:
    def __init__(self, cells: dict[str, ast.FunctionDef], barriers: dict[str, ast.Try]) -> None:
        self.cells = cells
        self.barriers = barriers

    def block(self, stmts: list[ast.stmt], region: str | None) -> Block:
        out: Block = []
        index = 0
        while index < len(stmts):
            stmt = stmts[index]
            following = stmts[index + 1] if index + 1 < len(stmts) else None
            if _is_hoist(stmt) and isinstance(following, ast.For):
                loop = self.loop(following, stmt, region)
                index += 2
                if index < len(stmts) and _is_iterator_del(stmts[index], loop.iterator):
                    loop.suffix.append(stmts[index])
                    index += 1
                out.append(loop)
                continue
            if _is_signal_reset(stmt) and _is_try(following) and following.finalbody:  # type: ignore[union-attr]
                folded = self.try_with_cells(following, region)  # type: ignore[arg-type]
                folded.prefix.append(stmt)
                index += 2
            elif _is_signal_reset(stmt) and isinstance(following, ast.With) and _cell_call(following.body):
                folded = self.with_cell(following, region)
                folded.prefix.append(stmt)
                index += 2
            elif isinstance(stmt, ast.With) and _cell_call(stmt.body) is not None:
                folded = self.with_cell(stmt, region)
                index += 1
            else:
                out.append(self.statement(stmt, region))
                index += 1
                continue
            if index < len(stmts) and _is_dispatch(stmts[index]):
                folded.suffix.append(stmts[index])
                index += 1
            out.append(folded)
        return out

    def loop(self, loop: ast.For, hoist: ast.stmt, region: str | None) -> Stmt:
        stmt = self.statement(loop, region)
        stmt.hoist = hoist
        stmt.prefix.append(hoist)
        stmt.iterator = hoist.targets[0].id  # type: ignore[attr-defined]
        return stmt

    def statement(self, stmt: ast.stmt, region: str | None) -> Stmt:
        out = Stmt(stmt, region)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(stmt, name, None)
            if block and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.blocks[name] = self.block(block, region)
        for index, handler in enumerate(getattr(stmt, "handlers", [])):
            out.blocks[f"handler{index}"] = self.block(handler.body, region)
        for index, case in enumerate(getattr(stmt, "cases", [])):
            out.blocks[f"case{index}"] = self.block(case.body, region)
        return _ordered(out)

    def cell_block(self, name: str) -> Block:
        if name not in self.barriers:
            raise NotVaccinated(f"missing cell {name}")
        return self.block(self.barriers[name].body, name)

    def with_cell(self, stmt: ast.With, region: str | None) -> Stmt:
        cell = _cell_call(stmt.body)
        assert cell is not None
        out = Stmt(stmt, region, cells={"body": cell})
        out.blocks["body"] = self.cell_block(cell)
        return out

    def try_with_cells(self, stmt: ast.Try, region: str | None) -> Stmt:
        out = Stmt(stmt, region)
        body_cell = _cell_call(stmt.body)
        if body_cell is None:
            raise NotVaccinated(f"try at line {stmt.lineno} without its body cell")
        out.cells["body"] = body_cell
        out.blocks["body"] = self.cell_block(body_cell)
        for index, handler in enumerate(stmt.handlers):
            cell = _cell_call(handler.body)
            if cell is None:
                raise NotVaccinated(f"handler at line {handler.lineno} without its cell")
            out.cells[f"handler{index}"] = cell
            out.blocks[f"handler{index}"] = self.cell_block(cell)
        if stmt.orelse:
            cell = _runtime_cell_arg(stmt.orelse)
            out.cells["orelse"] = cell
            out.blocks["orelse"] = self.cell_block(cell)
        cell = _runtime_cell_arg(stmt.finalbody)
        out.cells["finalbody"] = cell
        out.blocks["finalbody"] = self.cell_block(cell)
        return _ordered(out)


_ORDER = ("body", "handler", "orelse", "finalbody", "case")


def _ordered(stmt: Stmt) -> Stmt:
    def rank(name: str) -> tuple[int, int]:
        for position, prefix in enumerate(_ORDER):
            if name.startswith(prefix):
                suffix = name[len(prefix) :]
                return (position, int(suffix) if suffix else 0)
        return (len(_ORDER), 0)

    stmt.blocks = dict(sorted(stmt.blocks.items(), key=lambda item: rank(item[0])))
    return stmt


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_hoist(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and layout.parse_iterator_name(stmt.targets[0].id) is not None
        and isinstance(stmt.value, ast.Call)
        and ast.unparse(stmt.value.func) == layout.ITER
    )


def _is_iterator_del(stmt: ast.stmt, iterator: str | None) -> bool:
    return (
        isinstance(stmt, ast.Delete)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == iterator
    )


def _is_try(stmt: ast.stmt | None) -> bool:
    return isinstance(stmt, ast.Try) or (
        hasattr(ast, "TryStar") and isinstance(stmt, ast.TryStar)
    )


def _is_signal_reset(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == layout.SIGNAL
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is None
    )


def _cell_call(body: list[ast.stmt]) -> str | None:
    """``name`` for a block that is exactly ``_daifu_t = name()``."""
    if len(body) != 1 or not isinstance(body[0], ast.Assign):
        return None
    value = body[0].value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and not value.args
        and layout.parse_cell_name(value.func.id)
    ):
        return value.func.id
    return None


def _runtime_cell_arg(body: list[ast.stmt]) -> str:
    """``name`` for a block that is ``_daifu_t = __daifu__.run_x(_daifu_t, name)``."""
    value = body[0].value if body and isinstance(body[0], ast.Assign) else None
    if isinstance(value, ast.Call) and len(value.args) == 2 and isinstance(value.args[1], ast.Name):
        return value.args[1].id
    raise NotVaccinated("else/finally clause without its cell")


def _is_dispatch(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and isinstance(stmt.test, ast.Compare)
        and isinstance(stmt.test.left, ast.Name)
        and stmt.test.left.id == layout.SIGNAL
    )


def find_functions(tree: ast.Module, qualname: str, script: bool = False) -> list[ast.FunctionDef]:
    """Every def named *qualname* (``A.f``, ``f.<locals>.g``) in *tree*, in source order.

    Several defs can share a qualname (a property's getter and setter, a redefinition); the
    transpiler keeps their order, so the n-th match in the output is the n-th in the input.
    Script-level defs are found inside the script function too. One call walks the scopes on
    the way to *qualname* once; to look up many qualnames, use :class:`FunctionIndex`.
    """
    if script:
        return _script_functions(tree)
    parts = [p for p in qualname.split(".") if p != "<locals>"]
    found: list[ast.FunctionDef] = []
    for scope in _scopes(tree):
        found.extend(_descend(scope, parts))
    return found


def find_function(tree: ast.Module, qualname: str, script: bool = False) -> ast.FunctionDef | None:
    """The first def named *qualname* (see :func:`find_functions`)."""
    found = find_functions(tree, qualname, script)
    return found[0] if found else None


def occurrence(tree: ast.Module, qualname: str, node: ast.AST) -> int:
    """Which of the defs named *qualname* in *tree* is *node* (0 for the first)."""
    for index, candidate in enumerate(find_functions(tree, qualname)):
        if candidate is node:
            return index
    return 0


class FunctionIndex:
    """:func:`find_functions` and :func:`occurrence` for every qualname of one tree, from a
    single walk of it (looking each one up on its own walks the module once per function,
    which made a file of many functions quadratic)."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self._defs: dict[tuple[str, ...], list[ast.FunctionDef]] = {}
        for scope in _scopes(tree):
            self._index(scope, ())
        self._position = {
            (key, id(node)): position
            for key, defs in self._defs.items()
            for position, node in reversed(list(enumerate(defs)))  # the first one wins
        }

    def _index(self, node: ast.AST, path: tuple[str, ...]) -> None:
        # The order _descend finds them in: a scope's children in _scope_children's order,
        # all of one child's defs before the next child's.
        for child in _scope_children(node):
            key = (*path, child.name)  # type: ignore[attr-defined]
            if isinstance(child, ast.FunctionDef):
                self._defs.setdefault(key, []).append(child)
            self._index(child, key)

    def find(self, qualname: str, script: bool = False) -> list[ast.FunctionDef]:
        """What ``find_functions(tree, qualname, script)`` returns."""
        if script:
            return _script_functions(self.tree)
        return list(self._defs.get(_key(qualname), ()))

    def occurrence(self, qualname: str, node: ast.AST) -> int:
        """What ``occurrence(tree, qualname, node)`` returns."""
        return self._position.get((_key(qualname), id(node)), 0)


def _key(qualname: str) -> tuple[str, ...]:
    return tuple(p for p in qualname.split(".") if p != "<locals>")


def _script_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == layout.SCRIPT]


def _scopes(tree: ast.Module) -> list[ast.AST]:
    """Where qualnames start: the script functions (last first), then the module."""
    scopes: list[ast.AST] = [tree]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == layout.SCRIPT:
            scopes.insert(0, node)
    return scopes


def _descend(node: ast.AST, parts: list[str]) -> list[ast.FunctionDef]:
    if not parts:
        return [node] if isinstance(node, ast.FunctionDef) else []
    found: list[ast.FunctionDef] = []
    for child in _scope_children(node):
        if getattr(child, "name", None) == parts[0]:
            found.extend(_descend(child, parts[1:]))
    return found


def _scope_children(node: ast.AST) -> list[ast.AST]:
    """Defs and classes in *node*'s scope, looking through compound statements and cells,
    breadth first."""
    out: list[ast.AST] = []
    queue = statement_children(node)
    index = 0  # a queue by index: pop(0) made each call quadratic in the scope's statements
    while index < len(queue):
        child = queue[index]
        index += 1
        if type(child) in SIMPLE_STATEMENTS:  # most statements: they hold no statements
            continue
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if layout.parse_cell_name(child.name):
                queue.extend(statement_children(child))  # a cell holds user statements
            else:
                out.append(child)
        else:
            queue.extend(statement_children(child))
    return out


#: The fields that hold statements (or handlers and match cases, which hold statements).
#: Expressions hold no def or class, so the walk never enters them: they are most of a tree.
_STATEMENT_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


def statement_children(node: ast.AST) -> list[ast.AST]:
    """The statements, handlers and match cases directly under *node*, in field order (the
    order ``ast.iter_child_nodes`` gives them in)."""
    kind = type(node)
    names = _statement_fields.get(kind)
    if names is None:
        names = _statement_fields[kind] = tuple(n for n in kind._fields if n in _STATEMENT_FIELDS)
    out: list[ast.AST] = []
    for name in names:
        value = getattr(node, name, None)
        if isinstance(value, list):  # an IfExp's or a Lambda's body is an expression
            out.extend(value)
    return out


#: Node class -> its fields that may hold statements (most classes: none).
_statement_fields: dict[type, tuple[str, ...]] = {}


def walk(block: Block, path: tuple = ()) -> list[tuple[tuple, Stmt]]:
    """Every statement of *block* with its path ``((index, block name), ..., index)``."""
    out = []
    for index, stmt in enumerate(block):
        here = (*path, index)
        out.append((here, stmt))
        for name, inner in stmt.children():
            out.extend(walk(inner, (*here, name)))
    return out
