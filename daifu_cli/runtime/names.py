"""Names a block of statements binds in its own scope (nested scopes not entered).

Shared by the transpiler (which declares them in cells) and the runtime (which binds them in
resumed code).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
#: Statements that hold no block of statements (the passes skip looking for blocks in them).
SIMPLE_STATEMENTS = frozenset(
    getattr(ast, name)
    for name in (
        "Expr", "Assign", "AugAssign", "AnnAssign", "Return", "Delete", "Pass", "Break", "Continue",
        "Raise", "Assert", "Import", "ImportFrom", "Global", "Nonlocal", "TypeAlias",
    )
    if hasattr(ast, name)
)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk``, same order, without the import it runs on every call (``from collections
    import deque``): the runtime decides about exceptions while the program may have patched
    ``__import__`` or ``sys.modules``, as tests that mock imports do."""
    todo = [node]
    index = 0
    while index < len(todo):
        current = todo[index]
        index += 1
        todo.extend(ast.iter_child_nodes(current))
        yield current


def own_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under *nodes* that belongs to their scope (nested scopes are not entered;
    operators and load/store contexts are left out).

    Nested ``def``/``class``/``lambda`` nodes themselves are yielded (their names, decorators,
    defaults and bases belong to this scope) but not their bodies; comprehension bodies are
    skipped except for walrus targets, which bind in the enclosing function.
    """
    if _memo is not None:
        return iter([n for root in nodes for n in _remembered(root, _memo, _own_step)])
    return _own_nodes(nodes)


def _own_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_own_step(node))


def _own_step(node: ast.AST) -> list[ast.AST]:
    """The children :func:`own_nodes` pushes, last first (so they pop in order)."""
    return _scope_children(node)[::-1]


def _scope_children(node: ast.AST) -> list[ast.AST]:
    """The children of *node* that :func:`own_nodes` enters, in order."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        outer: list[ast.AST] = [*node.decorator_list, *node.args.defaults]
        outer += [d for d in node.args.kw_defaults if d is not None]
        if node.returns is not None:
            outer.append(node.returns)
        outer += [a.annotation for a in all_args(node.args) if a.annotation is not None]
        return outer
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
    if isinstance(node, COMPREHENSIONS):
        first = node.generators[0].iter  # evaluated in the enclosing scope
        return [first, *(n for n in walk(node) if isinstance(n, ast.NamedExpr))]
    return children(node)


# -- memo: the transpiler asks for a function's own nodes many times -----------------------

#: id(statement) -> (statement, its own nodes); set only inside :func:`memo`.
_memo: dict[int, tuple[ast.AST, list[ast.AST]]] | None = None
#: The same for :func:`all_nodes`.
_all_memo: dict[int, tuple[ast.AST, list[ast.AST]]] | None = None
#: id(statement) -> (statement, the names it binds in its scope), for :func:`bound_names`.
_bound_memo: dict[int, tuple[ast.AST, set[str]]] | None = None
#: id(statement) -> (statement, every identifier under it), for :func:`used_names`.
_used_memo: dict[int, tuple[ast.AST, set[str]]] | None = None


@contextmanager
def memo() -> Iterator[None]:
    """Within this block, :func:`own_nodes` remembers each statement's nodes: the analysis
    and emit passes walk the same function several times. The trees must not change inside
    the block (the transpiler's passes build new nodes; they never edit the input's)."""
    global _memo, _all_memo, _bound_memo, _used_memo
    outer = _memo, _all_memo, _bound_memo, _used_memo
    _memo, _all_memo, _bound_memo, _used_memo = {}, {}, {}, {}
    try:
        yield
    finally:
        _memo, _all_memo, _bound_memo, _used_memo = outer


def _remembered(
    root: ast.AST, table: dict[int, tuple[ast.AST, list[ast.AST]]] | None, step: Callable[[ast.AST], list[ast.AST]]
) -> list[ast.AST]:
    """The nodes under *root*, *step* giving each node's children to visit. With a *table*
    (inside :func:`memo`), each statement's list is kept and reused by later walks; the
    statement is held with it, so its id is not reused meanwhile."""
    if table is not None and id(root) in table:
        return table[id(root)][1]
    out: list[ast.AST] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if table is not None and node is not root and isinstance(node, ast.stmt):
            out.extend(_remembered(node, table, step))  # a block's statement: shared with later walks
            continue
        out.append(node)
        stack.extend(step(node))
    if table is not None and isinstance(root, ast.stmt):
        table[id(root)] = (root, out)
    return out


def all_nodes(roots: Iterable[ast.AST]) -> list[ast.AST]:
    """Every node under *roots*, nested scopes included, leaves left out (``ast.walk`` order
    is not kept: callers only test each node). Faster than ``ast.walk``, whose generators were
    the transpiler's largest single cost; remembered per statement inside :func:`memo`."""
    return [n for root in roots for n in _remembered(root, _all_memo, children)]


def used_names(nodes: Iterable[ast.AST]) -> set[str]:
    """Every identifier read or written under *nodes*, nested scopes included."""
    if _used_memo is None:
        return {name for node in all_nodes(nodes) for name in _identifier(node)}
    out: set[str] = set()
    for node in nodes:
        out |= _used_in(node, _used_memo)
    return out


def _used_in(root: ast.AST, table: dict[int, tuple[ast.AST, set[str]]]) -> set[str]:
    """:func:`used_names` of *root*, the set of each statement holding blocks remembered and
    reused by the statements around it (each function of a file asks for its own, and a nested
    function's are part of its outer function's: reading each function's nodes again was
    quadratic in the nesting depth). The set returned may be the table's own: callers must
    not change it."""
    entry = table.get(id(root))
    if entry is not None:
        return entry[1]
    names: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is not root and _holds_blocks(node):
            names |= _used_in(node, table)
            continue
        names.update(_identifier(node))
        stack.extend(children(node))
    if _holds_blocks(root):
        table[id(root)] = (root, names)
    return names


#: Node class -> whether it is a statement holding blocks (a def, a loop, an if...).
_BLOCKS: dict[type, bool] = {}


def _holds_blocks(node: ast.AST) -> bool:
    kind = type(node)
    holds = _BLOCKS.get(kind)
    if holds is None:
        holds = _BLOCKS[kind] = issubclass(kind, ast.stmt) and ("body" in kind._fields or "cases" in kind._fields)
    return holds


def _identifier(node: ast.AST) -> tuple[str, ...]:
    """The identifier *node* itself names, if any (a name, a def or class, a parameter)."""
    kind = type(node)
    if kind is ast.Name:
        return (node.id,)  # type: ignore[attr-defined]
    if kind is ast.arg:
        return (node.arg,)  # type: ignore[attr-defined]
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return (node.name,)  # type: ignore[attr-defined]
    return ()


#: Leaf nodes that never bind or use a name (and are shared singletons): not yielded. They
#: stand only in these fields (an operator, a comparison's operators, a load/store context).
_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
#: Node class -> its fields less the leaf ones (computed once per class).
_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` as a list, less the leaves (the transpiler's hottest loop)."""
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out += [item for item in value if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def all_args(args: ast.arguments) -> list[ast.arg]:
    out = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    out += [a for a in (args.vararg, args.kwarg) if a is not None]
    return out


def bound_names(stmts: Iterable[ast.stmt]) -> set[str]:
    """Names that *stmts* bind in their own scope."""
    if _bound_memo is None:
        return {name for node in own_nodes(stmts) for name in bound_by(node)}
    out: set[str] = set()
    for stmt in stmts:
        out |= _bound_in(stmt, _bound_memo)
    return out


def _bound_in(root: ast.AST, table: dict[int, tuple[ast.AST, set[str]]]) -> set[str]:
    """The names :func:`bound_by` finds in :func:`own_nodes` of *root*, each statement's set
    remembered (every cell asks for the names its block binds, and the blocks of nested cells
    hold one another), read from the statement's remembered own nodes where the analysis
    walked it already, else from a walk that reuses the sets of the statements inside. The set
    returned is the table's own: callers must not change it."""
    entry = table.get(id(root))
    if entry is not None:
        return entry[1]
    walked = _memo.get(id(root)) if _memo is not None else None
    if walked is not None:  # its nodes are known already: no walk
        names = {name for node in walked[1] for name in bound_by(node)}
        table[id(root)] = (root, names)
        return names
    names = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is not root and isinstance(node, ast.stmt):
            names |= _bound_in(node, table)
            continue
        names.update(bound_by(node))
        stack.extend(_scope_children(node))
    if isinstance(root, ast.stmt):
        table[id(root)] = (root, names)
    return names


def bound_by(node: ast.AST) -> tuple[str, ...]:
    """The names *node* itself binds in the scope it stands in (parameters excepted: they bind
    in the function's own scope)."""
    if isinstance(node, ast.Name):
        return (node.id,) if isinstance(node.ctx, (ast.Store, ast.Del)) else ()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return tuple(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
    if isinstance(node, ast.ExceptHandler):
        return (node.name,) if node.name else ()
    if isinstance(node, ast.NamedExpr):
        return (node.target.id,)  # type: ignore[union-attr]
    if _is_match_capture(node):
        return (getattr(node, "name", None) or node.rest,)  # type: ignore[attr-defined]
    return ()


#: Pattern nodes that bind a capture name (``match`` exists from 3.10).
_CAPTURES = tuple(getattr(ast, n) for n in ("MatchAs", "MatchStar") if hasattr(ast, n))
_MAPPING = getattr(ast, "MatchMapping", ())


def _is_match_capture(node: ast.AST) -> bool:
    if _CAPTURES and isinstance(node, _CAPTURES) and getattr(node, "name", None):
        return True
    return bool(_MAPPING) and isinstance(node, _MAPPING) and bool(node.rest)  # type: ignore[attr-defined]


