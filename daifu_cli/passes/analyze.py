"""Pass 3, analyze: what a selected function binds and whether it can be vaccinated safely.

Input: a function (or a module's script-level code) chosen by ``select``.
Output: a :class:`Scope` with the names the emitter must declare, or an :class:`Unsupported`
with the file line and the reason the function stays as it was.

Cells are nested functions, so every name a cell binds must be declared ``nonlocal`` (or
``global``) in it, and the enclosing function must bind it too. The names come from walking the
statements; ``symtable`` tells which names the original function declares ``global`` or
``nonlocal``.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from daifu_cli.runtime.layout import GUARDED_NAMES, PREFIX
from daifu_cli.runtime.names import all_args as _all_args
from daifu_cli.runtime.names import bound_by, bound_names, own_nodes, used_names, walk
from daifu_cli.runtime.names import children as child_nodes

__all__ = ["Scope", "Unsupported", "bound_names", "own_nodes", "used_names"]


@dataclass(frozen=True)
class Unsupported:
    """Why a function is left as it was."""

    line: int
    reason: str


@dataclass
class Scope:
    """Names of one vaccinated function (or script)."""

    #: Names declared ``global`` in the original function (all bound names, for a script).
    globals: set[str] = field(default_factory=set)
    #: Names declared ``nonlocal`` in the original function.
    nonlocals: set[str] = field(default_factory=set)
    #: Parameter names in order; the first is what zero-argument ``super()`` binds to.
    params: list[str] = field(default_factory=list)
    #: Names the function body binds outside cells (so the function owns them already).
    bound_outside_cells: set[str] = field(default_factory=set)
    #: First annotation seen for each simple name (kept on the function's declaration).
    annotations: dict[str, ast.expr] = field(default_factory=dict)
    #: Names shared through closure cells in the original function (captured by nested
    #: functions, or free variables of the function itself).
    shared: set[str] = field(default_factory=set)
    #: Whether this is a module's script-level code (state = module namespace).
    script: bool = False
    #: The statement lists of the function that become cells (see ``emit.cell_bodies``).
    cell_bodies: list[list[ast.stmt]] = field(default_factory=list)

    def declaration(self, name: str) -> str:
        """The declaration a cell needs for a name it binds."""
        if self.script or name in self.globals:
            return "global"
        return "nonlocal"


def declared(stmts: Iterable[ast.stmt], kind: type[ast.Global] | type[ast.Nonlocal]) -> set[str]:
    return {name for n in own_nodes(stmts) if isinstance(n, kind) for name in n.names}


def function_scope(
    func: ast.FunctionDef, cell_bodies: list[list[ast.stmt]], table: symtable.SymbolTable | None
) -> Scope:
    """The :class:`Scope` of *func* given the statement lists that will become cells."""
    in_cells = {id(s) for body in cell_bodies for s in body}
    outside = _statements_outside(func.body, in_cells)
    scope = Scope(
        globals=declared(func.body, ast.Global),
        nonlocals=declared(func.body, ast.Nonlocal),
        params=[a.arg for a in [*func.args.posonlyargs, *func.args.args]],
        cell_bodies=cell_bodies,
    )
    scope.bound_outside_cells = bound_names(outside) | {a.arg for a in _all_args(func.args)}
    scope.annotations = _annotations(func.body)
    if table is not None:
        scope.shared = shared_names(table)
    return scope


def shared_names(table: symtable.SymbolTable) -> set[str]:
    """Cell and free variables of the function *table* describes."""
    assert isinstance(table, symtable.Function)
    shared = set(table.get_frees())
    local = set(table.get_locals())
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack.extend(child.get_children())
        if isinstance(child, symtable.Function):
            shared |= local & set(child.get_frees())
    return shared


class TableIndex:
    """The symbol tables of one file's scopes, found by the path of defs and classes that
    leads to them. ``get_children()`` builds a new list of
    new table objects on every call, and the tables were searched by name in it: a file of N
    functions cost N times N. Here each table's children are listed once, by name."""

    def __init__(self, top: symtable.SymbolTable) -> None:
        self.top = top
        #: id(table) -> (table, its function and class children by name, in order).
        self._children: dict[int, tuple[symtable.SymbolTable, dict[str, list[symtable.SymbolTable]]]] = {}

    def children(self, table: symtable.SymbolTable, name: str | None) -> list[symtable.SymbolTable]:
        entry = self._children.get(id(table))
        if entry is None:
            by_name: dict[str, list[symtable.SymbolTable]] = {}
            for child in table.get_children():
                if child.get_type() in ("function", "class"):
                    by_name.setdefault(child.get_name(), []).append(child)
            entry = self._children[id(table)] = (table, by_name)
        return entry[1].get(name, []) if isinstance(name, str) else []

    def find(self, path: list[ast.AST]) -> symtable.SymbolTable | None:
        table = self.top
        for node in path:
            candidates = self.children(table, getattr(node, "name", None))
            if not candidates:
                return None
            lines = {getattr(node, "lineno", 0), *(d.lineno for d in getattr(node, "decorator_list", []))}
            table = next((c for c in candidates if c.get_lineno() in lines), candidates[0])
        return table


def script_scope(stmts: list[ast.stmt]) -> Scope:
    scope = Scope(script=True)
    scope.globals = bound_names(stmts) | declared(stmts, ast.Global)
    scope.bound_outside_cells = set(scope.globals)
    return scope


def _statements_outside(body: list[ast.stmt], in_cells: set[int]) -> list[ast.stmt]:
    """Statements of *body* (recursively) that are not inside any cell body.

    A compound statement counts with its header: the emitter keeps ``with`` and ``try``
    statements in place and moves only their bodies into cells.
    """
    out: list[ast.stmt] = []
    for stmt in body:
        if id(stmt) in in_cells:
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(stmt)  # binds its name here; what its body binds is its own
            continue
        children = [b for f in ("body", "orelse", "finalbody") for b in [getattr(stmt, f, None)] if b]
        for handler in getattr(stmt, "handlers", []):
            children.append(handler.body)
        for case in getattr(stmt, "cases", []):
            children.append(case.body)
        if not children:
            out.append(stmt)
            continue
        out.append(_header_only(stmt))
        for child in children:
            out.extend(_statements_outside(child, in_cells))
    return out


def _header_only(stmt: ast.stmt) -> ast.stmt:
    """A copy of compound *stmt* with empty bodies, so only its header's bindings count."""
    clone = ast.copy_location(type(stmt)(), stmt)  # type: ignore[call-arg]
    for name, value in ast.iter_fields(stmt):
        if name in ("body", "orelse", "finalbody"):
            value = []
        elif name == "handlers":
            value = [ast.ExceptHandler(type=h.type, name=h.name, body=[]) for h in value]
        elif name == "cases":
            value = [type(c)(pattern=c.pattern, guard=c.guard, body=[]) for c in value]
        setattr(clone, name, value)
    return clone


def _annotations(body: list[ast.stmt]) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in own_nodes(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.setdefault(node.target.id, node.annotation)
    return found


# -- what cannot be vaccinated ------------------------------------------------------------

_FRAME_INSPECTORS = {"_getframe", "currentframe", "stack"}
_NAMESPACE_CALLS = {"exec", "eval", "locals", "vars", "dir"}


def rebound_guarded_name(tree: ast.Module, text: str) -> Unsupported | None:
    """Where the module binds a name the generated code reads (``BaseException`` in every
    crash barrier, the ``__daifu__`` builtin), in any scope: its barriers would catch (or
    call) the program's object, so nothing in the module is vaccinated."""
    if not any(name in text for name in GUARDED_NAMES):
        return None  # the usual case: no walk
    for node in walk(tree):
        for name in (node.arg,) if isinstance(node, ast.arg) else bound_by(node):
            if name in GUARDED_NAMES:
                return Unsupported(
                    getattr(node, "lineno", 1),
                    f"the module binds the name {name!r}, which daifu's crash barriers read",
                )
    return None


def check_function(
    func: ast.FunctionDef | ast.AsyncFunctionDef, *, reserved: bool = True, namespace_calls: bool = True
) -> Unsupported | None:
    """Why *func* must stay as it was, or ``None`` if it can be vaccinated. *reserved*,
    *namespace_calls*: whether the module may hold a name starting with daifu's prefix, and
    one of :data:`NAMESPACE_CALLS` (see ``SourceFile.may_name``); the walks looking for them
    are skipped where it cannot."""
    if isinstance(func, ast.AsyncFunctionDef):
        return Unsupported(func.lineno, "async function: its frames cannot be resumed")
    body = func.body[1:] if _is_docstring(func.body[0]) else func.body
    if all(_is_placeholder(s) for s in body):
        return Unsupported(func.lineno, "nothing to protect: the body is only a docstring, `...` or `pass`")
    own = list(own_nodes(func.body))
    for node in own:
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return Unsupported(node.lineno, "generator function: its frames cannot be resumed")
        if isinstance(node, ast.Await):
            return Unsupported(node.lineno, "await outside an async function")
    problem = _scope_sensitive_call(_with_comprehensions(func.body)) if namespace_calls else None
    if problem:
        return problem
    return _common_checks(func.body, [func], reserved)


def _with_comprehensions(body: list[ast.stmt]) -> list[ast.AST]:
    """Nodes of the function's scope, comprehensions included (since 3.12 they are inlined:
    a ``locals()`` inside one sees the function's namespace)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(child_nodes(node))
    return found


def _is_placeholder(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis
    )


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


#: The nodes the first loop of :func:`check_script` looks at.
_SCRIPT_CHECKED = frozenset({ast.ImportFrom, ast.Call, ast.AnnAssign})


def check_script(
    stmts: list[ast.stmt], *, star_imports: bool = False, future_annotations: bool = False, reserved: bool = True,
    namespace_calls: bool = True,
) -> Unsupported | None:
    """Why a module's script-level code must stay at module level, or ``None``.

    *star_imports*: the module has ``from ... import *`` (which may bind ``eval`` or
    ``locals``, so daifu cannot tell what those calls mean); *future_annotations*: the module
    uses ``from __future__ import annotations`` (module annotations are then strings written
    by the running interpreter, which daifu cannot reproduce for every version); *reserved*,
    *namespace_calls*: as for :func:`check_function`."""
    annotated = False  # an annotated assignment to something other than a name
    for node in own_nodes(stmts):
        if type(node) not in _SCRIPT_CHECKED:  # most nodes (one test of their type first)
            continue
        if isinstance(node, ast.AnnAssign) and not isinstance(node.target, ast.Name):
            annotated = True
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return Unsupported(node.lineno, "`from ... import *` inside a block: it must stay at module level")
        if star_imports and isinstance(node, ast.Call) and _call_name(node) in _NAMESPACE_CALLS:
            return Unsupported(node.lineno, f"{_call_name(node)}() may come from a star import")
        if future_annotations and isinstance(node, ast.AnnAssign):
            return Unsupported(node.lineno, "module-level annotation under `from __future__ import annotations`")
    # The checks below look inside comprehensions too, where only calls can add to the own
    # nodes' statements: without such a call or annotation, nothing to find there.
    for node in _with_comprehensions(stmts) if namespace_calls or annotated else ():
        if isinstance(node, ast.Call) and _call_name(node) in ("locals", "vars", "dir") and not node.args:
            if not any(node is own for own in own_nodes(stmts)):
                return Unsupported(node.lineno, f"{_call_name(node)}() inside a comprehension at module level")
        if isinstance(node, ast.AnnAssign) and not isinstance(node.target, ast.Name):
            return Unsupported(node.lineno, "annotated assignment to an attribute at module level")
        if isinstance(node, ast.Call) and _call_name(node) in ("exec", "eval"):
            if any(isinstance(a, ast.Constant) and a.value is None for a in node.args[1:]):
                return Unsupported(node.lineno, "exec/eval with an explicit None namespace")
    return _common_checks(stmts, stmts, reserved)


#: Python allows 20 nested blocks; the crash barrier and cells add up to two.
_MAX_NESTING = 18


def nesting(body: Sequence[ast.stmt], depth: int = 0) -> int:
    """How deeply *body* nests blocks (loops, with, try, if; nested scopes excluded)."""
    deepest = depth
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        blocks = [getattr(stmt, name, None) or [] for name in ("body", "orelse", "finalbody")]
        blocks += [h.body for h in getattr(stmt, "handlers", [])]
        blocks += [c.body for c in getattr(stmt, "cases", [])]
        inner = depth + 1 if isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)) or type(stmt).__name__ in ("TryStar", "Match") else depth
        for block in blocks:
            if block:
                deepest = max(deepest, nesting(block, inner))
    return deepest


#: Calls that can read a namespace (see ``SourceFile.may_name``).
NAMESPACE_CALLS = ("locals", "vars", "dir", "exec", "eval")


def _common_checks(body: Sequence[ast.stmt], roots: Sequence[ast.AST], reserved: bool = True) -> Unsupported | None:
    if nesting(body) > _MAX_NESTING:
        return Unsupported(
            getattr(roots[0], "lineno", 1) if roots else 1,
            f"blocks nested more than {_MAX_NESTING} deep (Python allows 20, and the crash barrier adds some)",
        )
    for name in sorted(used_names(roots)) if reserved else ():
        if name.startswith(PREFIX):
            return Unsupported(_first_line(roots), f"uses the name {name!r}, reserved by daifu")
    for node in own_nodes(body):
        if isinstance(node, ast.Try) or _is_try_star(node):
            bad = _control_flow_in_finally(node)  # type: ignore[arg-type]
            if bad is not None:
                return bad
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in _FRAME_INSPECTORS and _looks_like_frame_access(node):
                return Unsupported(
                    node.lineno, "inspects its own frame: cells would change what it sees"
                )
    return None


def _first_line(roots: Sequence[ast.AST]) -> int:
    return getattr(roots[0], "lineno", 1) if roots else 1


def _looks_like_frame_access(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id in ("sys", "inspect")
    return False


def _is_try_star(node: ast.AST) -> bool:
    return hasattr(ast, "TryStar") and isinstance(node, ast.TryStar)


def _control_flow_in_finally(node: ast.Try) -> Unsupported | None:
    if not node.finalbody:
        return None
    for inner in own_nodes(node.finalbody):
        if isinstance(inner, (ast.Return, ast.Break, ast.Continue)):
            if isinstance(inner, (ast.Break, ast.Continue)) and _inside_loop_of(
                node.finalbody, inner
            ):
                continue
            return Unsupported(
                inner.lineno, "return/break/continue inside a finally clause (swallows exceptions)"
            )
    return None


def _inside_loop_of(body: list[ast.stmt], target: ast.AST) -> bool:
    """Whether *target* sits inside a loop that is itself inside *body*."""
    for stmt in body:
        for node in own_nodes([stmt]):
            if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
                if any(n is target for n in own_nodes(node.body + node.orelse)):
                    return True
    return False


def _call_name(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else None


def _scope_sensitive_call(own: list[ast.AST]) -> Unsupported | None:
    """Calls that observe the function's local namespace as a whole."""
    for node in own:
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in ("locals", "vars", "dir") and not node.args and not node.keywords:
            return Unsupported(node.lineno, f"calls {name}() on its own namespace")
        if name in ("exec", "eval") and len(node.args) < 2 and not node.keywords:
            return Unsupported(node.lineno, f"calls {name}() on its own local namespace")
    return None
