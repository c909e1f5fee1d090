"""Apply a fix to the running program: new code for a module, or an action snippet.

New code (a re-vaccinated file, or the vaccinated file edited in place) never re-runs the
module's top level. Each changed function gets the new code object in place (``__code__``),
so every existing reference to it (callbacks, bound methods, registries, decorators'
wrappers) runs the new code from its next call; functions the fix adds are defined; changes
to other module-level statements are reported and not applied. The crashed function itself
resumes through a continuation (see :mod:`.resume`).

An action snippet is a Python file run with the crashed function's variables as its local
namespace and the module's globals as its globals; assignments change the variables (or
define module globals), and only a snippet that runs to its end changes anything.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import handled, layout, positions, registry, signals
from .context import Context


class PatchError(Exception):
    """The fix cannot be applied (syntax error, exception); the program keeps waiting."""


@dataclass
class CodeChange:
    record: registry.ModuleRecord
    source: str
    tree: ast.Module
    code: types.CodeType


def read_change(record: registry.ModuleRecord) -> CodeChange | None:
    """The new code of *record*'s file, or ``None`` if the file still holds the running code."""
    try:
        source = registry.read_source(record.path)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise PatchError(f"cannot read {record.path}: {exc}") from None
    if source == record.source:
        return None
    try:
        tree = ast.parse(source, record.path)
        code = compile(tree, record.path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise PatchError(f"{record.path}:{exc.lineno}: {exc.msg}") from None
    return CodeChange(record, source, tree, code)


@dataclass
class Applied:
    module: str
    swapped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def apply_change(change: CodeChange) -> Applied:
    """Swap in the new code of every changed function of the module."""
    record = change.record
    module = sys.modules.get(record.name)
    result = Applied(record.name)
    old = dict(_defs(record.tree))
    codes = _code_index(change.code)
    defined: list[types.CodeType] = []
    for qualname, node in _defs(change.tree):
        previous = old.get(qualname)
        if previous is not None and _same(previous, node):
            continue
        code = codes.get((node.name, _first_line(node)))
        if code is None or module is None:
            continue
        targets = list(_function_objects(module, qualname))
        defaults = None
        if targets and previous is not None and not _same_defaults(previous, node):
            try:
                defaults = _evaluate_defaults(node, module, record.path)
            except Exception as exc:  # any error of the user's expressions
                result.ignored.append(f"{qualname}: new default values not applied ({type(exc).__name__}: {exc})")
        if targets:
            for function in targets:
                try:
                    function.__code__ = signals.named(
                        code, function.__name__, function.__qualname__, rename_self=False
                    )
                    if defaults is not None:
                        function.__defaults__, function.__kwdefaults__ = defaults
                    result.swapped.append(qualname)
                except ValueError:  # the closure changed shape: rebind a new function
                    defined.append(_define(module, qualname, node, change))
                    result.replaced.append(qualname)
        elif previous is None:
            defined.append(_define(module, qualname, node, change))
            result.added.append(qualname)
    result.ignored.extend(_module_level_changes(record.tree, change.tree))
    generation = record.update(change.source, change.code)
    for code in defined:  # compiled on their own: their frames must find this generation too
        generation.add_code(code)
    handled.forget(record.path)
    positions.forget(record.path)
    return result


def _same_defaults(a: ast.FunctionDef | ast.AsyncFunctionDef, b: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    def dump(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        values = [*node.args.defaults, *node.args.kw_defaults]
        names = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        return [*names, *(ast.dump(v, include_attributes=False) if v else "-" for v in values)]

    return dump(a) == dump(b)


def _evaluate_defaults(
    node: ast.FunctionDef | ast.AsyncFunctionDef, module: types.ModuleType, path: str
) -> tuple[tuple[Any, ...] | None, dict[str, Any] | None]:
    """The ``__defaults__`` and ``__kwdefaults__`` a re-run ``def`` would give: the new default
    expressions evaluated once, in the module's globals (as a module-level ``def`` evaluates
    them; a method's defaults that name other class attributes do not resolve and are
    reported)."""

    def value(expr: ast.expr) -> Any:
        code = compile(ast.Expression(body=expr), path, "eval", dont_inherit=True)
        return eval(code, module.__dict__)  # the user's own default expression

    positional = tuple(value(expr) for expr in node.args.defaults)
    keyword = {
        arg.arg: value(expr) for arg, expr in zip(node.args.kwonlyargs, node.args.kw_defaults) if expr is not None
    }
    return positional or None, keyword or None


def _defs(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level functions and methods by qualname (script functions see through)."""

    def visit(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, Any]]:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name == layout.SCRIPT and isinstance(node, ast.FunctionDef):
                    yield from visit(_script_body(node), "")
                    continue
                yield prefix + node.name, node
            elif isinstance(node, ast.ClassDef):
                yield from visit(node.body, prefix + node.name + ".")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for name in ("body", "orelse", "finalbody"):
                    yield from visit(getattr(node, name, []), prefix)
                for handler in getattr(node, "handlers", []):
                    yield from visit(handler.body, prefix)

    yield from visit(tree.body, "")


def _script_body(script: ast.FunctionDef) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in script.body:
        if isinstance(stmt, ast.Try) and stmt.handlers and stmt.handlers[0].name == layout.EXC:
            out.extend(stmt.body)
        elif isinstance(stmt, ast.FunctionDef) and layout.parse_cell_name(stmt.name):
            out.extend(_cell_body(stmt))
    return out


def _cell_body(cell: ast.FunctionDef) -> list[ast.stmt]:
    for stmt in cell.body:
        if isinstance(stmt, ast.Try) and stmt.handlers and stmt.handlers[0].name == layout.EXC:
            return stmt.body
    return []


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return decorators[0].lineno if decorators else node.lineno  # type: ignore[attr-defined,no-any-return]


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, include_attributes=False) == ast.dump(b, include_attributes=False)


def _code_index(code: types.CodeType) -> dict[tuple[str, int], types.CodeType]:
    index: dict[tuple[str, int], types.CodeType] = {}
    stack = [code]
    while stack:
        current = stack.pop()
        for const in current.co_consts:
            if isinstance(const, types.CodeType):
                index.setdefault((const.co_name, const.co_firstlineno), const)
                stack.append(const)
    return index


def _function_objects(module: types.ModuleType, qualname: str) -> Iterator[types.FunctionType]:
    """Function objects of the module reachable under *qualname*, decorators unwrapped."""
    parts = qualname.split(".")
    holder: Any = module
    for part in parts[:-1]:
        holder = getattr(holder, part, None)
        if holder is None:
            return
    candidate = holder.__dict__.get(parts[-1]) if hasattr(holder, "__dict__") else None
    seen: set[int] = set()
    stack = [candidate]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (staticmethod, classmethod)):
            stack.append(item.__func__)
        elif isinstance(item, property):
            stack.extend([item.fget, item.fset, item.fdel])
        elif isinstance(item, types.FunctionType):
            if item.__code__.co_name == parts[-1]:
                yield item
            stack.append(getattr(item, "__wrapped__", None))
        else:
            stack.append(getattr(item, "__wrapped__", None))


def _define(module: types.ModuleType, qualname: str, node: ast.AST, change: CodeChange) -> types.CodeType:
    """Run the def of a function the fix added (its decorators run too); returns the code
    compiled for it."""
    parts = qualname.split(".")
    target: Any = module
    for part in parts[:-1]:
        target = getattr(target, part)
    definition = ast.Module(body=[node], type_ignores=[])  # type: ignore[list-item]
    code = compile(definition, change.record.path, "exec", dont_inherit=True)
    namespace: dict[str, Any] = {}
    exec(code, module.__dict__, namespace)
    value = namespace[parts[-1]]
    if target is module:
        module.__dict__[parts[-1]] = value
    else:
        setattr(target, parts[-1], value)
    return code


def _module_level_changes(old: ast.Module, new: ast.Module) -> list[str]:
    def statements(tree: ast.Module) -> list[str]:
        out = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            out.append(ast.dump(node, include_attributes=False))
        return out

    before, after = statements(old), statements(new)
    if before == after:
        return []
    lines = [
        node.lineno
        for node in new.body
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and ast.dump(node, include_attributes=False) not in before
    ]
    return [f"module-level statement at line {n} (not re-run; use an action snippet)" for n in lines]


# -- action snippets ------------------------------------------------------------------------


class SnippetControl:
    """``daifu`` inside an action snippet: choose what happens after it runs."""

    def __init__(self) -> None:
        self.action = "retry"

    def retry(self) -> None:
        """Run the failing statement again (the default)."""
        self.action = "retry"

    def skip(self) -> None:
        """Go on after the failing statement without running it."""
        self.action = "skip"

    def give_up(self) -> None:
        """Let the original exception propagate, as without daifu."""
        self.action = "raise"


def run_snippet(path: str, text: str, ctx: Context) -> tuple[str, list[str]]:
    """Run an action snippet; returns the action it chose and the variables it changed."""
    try:
        code = compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise PatchError(f"{path}:{exc.lineno}: {exc.msg}") from None
    namespace = ctx.namespace()
    control = SnippetControl()
    namespace.writes["daifu"] = control
    try:
        exec(code, ctx.globals, namespace)
    except BaseException as exc:  # a snippet must never end the waiting program...
        if isinstance(exc, signals.Stopped) and exc.terminate:
            raise  # ...but SIGTERM ends it wherever it lands, as while waiting
        raise PatchError(
            f"{path}: the snippet raised {type(exc).__name__}: {exc}. None of its assignments "
            "took effect; what it changed inside objects before raising (a list's append, a "
            "tensor's add_, an attribute set) stays"
        ) from None
    namespace.writes.pop("daifu", None)
    return control.action, namespace.commit()
