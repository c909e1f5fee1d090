"""Names a block of statements binds in its own scope (nested scopes not entered).

Shared by the transpiler (which declares them in cells) and the runtime (which binds them in
resumed code).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def own_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under *nodes* that belongs to their scope (nested scopes are not entered;
    operators and load/store contexts are left out).

    Nested ``def``/``class``/``lambda`` nodes themselves are yielded (their names, decorators,
    defaults and bases belong to this scope) but not their bodies; comprehension bodies are
    skipped except for walrus targets, which bind in the enclosing function.
    """
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            outer = [*node.decorator_list, *node.args.defaults]
            outer += [d for d in node.args.kw_defaults if d is not None]
            if node.returns is not None:
                outer.append(node.returns)
            outer += [a.annotation for a in all_args(node.args) if a.annotation is not None]
            stack.extend(reversed(outer))
        elif isinstance(node, ast.ClassDef):
            stack.extend(reversed([*node.decorator_list, *node.bases, *node.keywords]))
        elif isinstance(node, ast.Lambda):
            stack.extend(reversed([*node.args.defaults, *(d for d in node.args.kw_defaults if d)]))
        elif isinstance(node, COMPREHENSIONS):
            first = node.generators[0].iter  # evaluated in the enclosing scope
            walrus = [n for n in ast.walk(node) if isinstance(n, ast.NamedExpr)]
            stack.extend(reversed([first, *walrus]))
        else:
            stack.extend(reversed(_children(node)))


#: Leaf nodes that never bind or use a name (and are shared singletons): not yielded.
_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)


def _children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` as a list, less the leaves (the transpiler's hottest loop)."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _LEAVES))
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            out.append(value)
    return out


def all_args(args: ast.arguments) -> list[ast.arg]:
    out = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    out += [a for a in (args.vararg, args.kwarg) if a is not None]
    return out


def bound_names(stmts: Iterable[ast.stmt]) -> set[str]:
    """Names that *stmts* bind in their own scope."""
    names: set[str] = set()
    for node in own_nodes(stmts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)  # type: ignore[union-attr]
        elif _is_match_capture(node):
            names.add(getattr(node, "name", None) or node.rest)  # type: ignore[attr-defined]
    return names


def _is_match_capture(node: ast.AST) -> bool:
    kinds = tuple(getattr(ast, n) for n in ("MatchAs", "MatchStar") if hasattr(ast, n))
    if kinds and isinstance(node, kinds) and getattr(node, "name", None):
        return True
    return hasattr(ast, "MatchMapping") and isinstance(node, ast.MatchMapping) and bool(node.rest)


