"""Canonical text of statements, so that a vaccinated statement and its original compare equal.

The emitter edits a few statements (see :mod:`daifu_cli.passes.emit`): inside cells,
``return x`` becomes ``return ((x),)``, ``break`` becomes ``return "break"``, annotations of
plain names are dropped and ``super()`` names its arguments; in script-level code ``locals()``
reads ``globals()``. :func:`key` undoes those differences, so it serves both to check the
transpiler's output against its input and to align a running function with a fixed version.
"""

from __future__ import annotations

import ast
import copy
import operator
from collections.abc import Callable
from typing import Any

from . import layout
from .names import all_nodes

_COMPOUND_HEADERS = {
    "For": ("target", "iter"),
    "AsyncFor": ("target", "iter"),
    "While": ("test",),
    "If": ("test",),
    "With": ("items",),
    "AsyncWith": ("items",),
    "Try": ("handlers",),
    "TryStar": ("handlers",),
    "Match": ("subject",),
    # Nested scopes compare by their header: a nested def may itself be vaccinated.
    "FunctionDef": ("name", "args", "decorator_list", "returns"),
    "AsyncFunctionDef": ("name", "args", "decorator_list", "returns"),
    "ClassDef": ("name", "bases", "keywords", "decorator_list"),
}


def key(stmt: ast.stmt, *, in_cell: bool = False, header_only: bool = True) -> str:
    """A string equal for equivalent statements. *in_cell* says that *stmt* is vaccinated
    code running in a cell (its signals are undone first); for compound statements only the
    header counts unless *header_only* is false."""
    node = canonical(stmt, in_cell=in_cell, header_only=header_only)
    name = type(node).__name__
    if header_only and name in _COMPOUND_HEADERS:
        parts = []
        for field_name in _COMPOUND_HEADERS[name]:
            value = getattr(node, field_name)
            if field_name == "handlers":
                value = [(h.type, h.name) for h in value]
            elif field_name == "decorator_list":
                value = [d for d in value if not _is_marker(d)]
            parts.append(_dump(value))
        return f"{name}({', '.join(parts)})"
    return _dump(node)


def same(original: ast.stmt, vaccinated: ast.stmt, *, in_cell: bool = False) -> bool:
    """``key(original) == key(vaccinated, in_cell=in_cell)`` (headers only), without copying
    or printing the trees: the transpiler checks every statement it writes with this, and
    building the keys was a quarter of its time. Folding copies only a part that may change."""
    if in_cell:
        vaccinated = undo_signal(vaccinated)
    fields = _COMPOUND_HEADERS.get(type(original).__name__)
    if fields is None:
        # Equal trees fold alike, so folding (a walk, maybe a copy) is needed only when they
        # differ; it may change a simple statement's type (x: T = v -> x = v).
        return _equal(original, vaccinated) or _equal(_folded(original), _folded(vaccinated))
    if type(original) is not type(vaccinated):
        return False
    scope = isinstance(original, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    for field_name in fields:
        before, after = getattr(original, field_name), getattr(vaccinated, field_name)
        if field_name == "handlers":
            before = [(h.type, h.name) for h in before]
            after = [(h.type, h.name) for h in after]
        elif field_name == "decorator_list":
            before = [d for d in before if not _is_marker(d)]
            after = [d for d in after if not _is_marker(d)]
        if _equal(before, after):
            continue
        if scope:  # nested scopes compare as they are (see canonical)
            return False
        if not _equal(_folded(before), _folded(after)):
            return False
    return True


def _folded(value: Any) -> Any:
    """*value* (a node, or a list or tuple of them) as :class:`_Canonical` would leave it;
    the same object when folding cannot change it."""
    if isinstance(value, (list, tuple)):
        return type(value)(_folded(v) for v in value)
    if not isinstance(value, ast.AST) or not _may_change(value):
        return value
    if isinstance(value, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return value
    return _Canonical().visit(copy.deepcopy(value))


def _equal(first: Any, second: Any) -> bool:
    """Whether two values dump alike: the same node types and fields, positions ignored."""
    stack = [(first, second)]
    while stack:
        a, b = stack.pop()
        kind = type(a)
        if kind is not type(b):
            return False
        if kind in _ATOMS:  # most leaves: names, None, small numbers (checked first: quickest)
            if a != b:
                return False
        elif isinstance(a, ast.AST):
            fields = _fields_of.get(kind)
            if fields is None:
                fields = _fields_of[kind] = _fields_getter(kind)
            try:
                stack.extend(zip(fields(a), fields(b)))
            except AttributeError:  # a node built without all of its fields
                stack.extend([(getattr(a, name, None), getattr(b, name, None)) for name in a._fields])
        elif isinstance(a, (list, tuple)):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b))
        elif a != b or (isinstance(a, (float, complex)) and repr(a) != repr(b)):  # 0.0 and -0.0
            return False
    return True


#: Values equal exactly when ``==`` says so (unlike floats: 0.0 and -0.0).
_ATOMS = frozenset({str, int, bool, bytes, type(None)})

#: Node class -> a function giving a node's field values as a tuple (``operator.attrgetter``:
#: one call in C where a loop of ``getattr`` took most of the comparison's time).
_fields_of: dict[type, Callable[[ast.AST], tuple[Any, ...]]] = {}


def _fields_getter(kind: type) -> Callable[[ast.AST], tuple[Any, ...]]:
    fields = kind._fields  # type: ignore[attr-defined]
    if len(fields) >= 2:
        return operator.attrgetter(*fields)
    if len(fields) == 1:
        single = operator.attrgetter(fields[0])
        return lambda node: (single(node),)
    return lambda node: ()


def _dump(value: object) -> str:
    if isinstance(value, ast.AST):
        return ast.dump(value, annotate_fields=False, include_attributes=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return repr(value)


def canonical(stmt: ast.stmt, *, in_cell: bool = False, header_only: bool = False) -> ast.stmt:
    """A copy of *stmt* with daifu's edits undone and harmless variants folded together
    (*header_only*: of a compound statement's header, its blocks left empty)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt  # nested scopes compare as they are: nothing would be changed
    if header_only and type(stmt).__name__ in _COMPOUND_HEADERS:
        node = _header_copy(stmt)
    elif not _may_change(stmt):
        return stmt  # most statements: nothing to fold, so no copy
    else:
        node = copy.deepcopy(stmt)
    if in_cell:
        node = undo_signal(node)
    return _Canonical().visit(node)  # type: ignore[no-any-return]


_FOLDED = (ast.Return, ast.Global, ast.Nonlocal, ast.AnnAssign)
_FOLDED_CALLS = {"super", "exec", "eval", "locals", "vars", "dir"}


def _may_change(stmt: ast.AST) -> bool:
    """Whether :class:`_Canonical` (or undoing a signal) could change *stmt* (or a part)."""
    for node in all_nodes([stmt]):
        if isinstance(node, _FOLDED):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FOLDED_CALLS:
            return True
    return False


def _header_copy(stmt: ast.stmt) -> ast.stmt:
    """A copy of a compound statement's header; copying its blocks (which can be the whole
    function) was most of the transpiler's verification time."""
    node = copy.copy(stmt)
    for block in ("body", "orelse", "finalbody", "cases"):
        if hasattr(node, block):
            setattr(node, block, [])
    for name in _COMPOUND_HEADERS[type(stmt).__name__]:
        if name == "handlers":
            node.handlers = [  # type: ignore[attr-defined]
                ast.ExceptHandler(type=copy.deepcopy(h.type), name=h.name, body=[])
                for h in stmt.handlers  # type: ignore[attr-defined]
            ]
        else:
            setattr(node, name, copy.deepcopy(getattr(stmt, name)))
    return node


def undo_signal(node: ast.stmt) -> ast.stmt:
    """The user statement behind a cell's signal: ``return ((x),)`` -> ``return x``,
    ``return (None,)`` -> ``return``, ``return "break"`` -> ``break``."""
    if not isinstance(node, ast.Return):
        return node
    value = node.value
    if isinstance(value, ast.Tuple) and len(value.elts) == 1 and not _starred(value):
        inner = value.elts[0]
        if isinstance(inner, ast.Constant) and inner.value is None:
            return ast.copy_location(ast.Return(value=None), node)
        return ast.copy_location(ast.Return(value=inner), node)
    if isinstance(value, ast.Constant) and value.value == layout.BREAK:
        return ast.copy_location(ast.Break(), node)
    if isinstance(value, ast.Constant) and value.value == layout.CONTINUE:
        return ast.copy_location(ast.Continue(), node)
    return node


class _Canonical(ast.NodeTransformer):
    """Folds the variants that cells and scripts need into one form, on both sides."""

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if node.value is None:  # `return` and `return None` carry the same signal in a cell
            return ast.Return(value=ast.Constant(None))
        return node

    def visit_Global(self, node: ast.Global) -> ast.AST:
        return ast.Pass()

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        return ast.Pass()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            if node.value is None:
                return ast.Pass()
            return ast.Assign(targets=[node.target], value=node.value)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name):
            name = node.func.id
            if name == "super":
                return ast.Call(func=node.func, args=[], keywords=[])
            if name in ("exec", "eval") and len(node.args) == 2 and _is_globals_call(node.args[1]):
                return ast.Call(func=node.func, args=node.args[:1], keywords=node.keywords)
            if name in ("locals", "vars") and not node.args:
                return ast.Call(func=ast.Name("globals", ast.Load()), args=[], keywords=[])
            if name == "dir" and not node.args:
                return _sorted_globals()
        return node

    # Nested scopes are copied as they are.
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node


def _is_marker(decorator: ast.expr) -> bool:
    """``@daifu.transform(...)`` (dropped from vaccinated output) and ``@__daifu__.cells``
    (added to it)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
        return False
    return (target.value.id, target.attr) in (("daifu", "transform"), (layout.RUNTIME, "cells"))


def _starred(value: ast.Tuple) -> bool:
    return any(isinstance(e, ast.Starred) for e in value.elts)


def _is_globals_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "globals"
        and not node.args
    )


def _sorted_globals() -> ast.Call:
    return ast.Call(
        func=ast.Name("sorted", ast.Load()),
        args=[ast.Call(func=ast.Name("globals", ast.Load()), args=[], keywords=[])],
        keywords=[],
    )
