"""Pass 2, select: which functions of a file (and whether its script-level code) to vaccinate.

Input: a parsed file and the :class:`Selection` options. Output: one :class:`Decision` per
function (and per script-level body), each with the reason shown by ``--explain``.

The default policy targets training loops where research code keeps them:

* every function or method that contains a ``for`` or ``while`` loop;
* the script-level code of a module with a loop at module level (a nanoGPT-style
  ``train.py``, or a loop inside ``if __name__ == "__main__":``);
* functions marked with ``@daifu.transform()`` (DaiFu-compatible marker), whatever they contain;
* the hooks that Lightning, the Hugging Face ``Trainer`` and kin call per step or per batch
  (found over the whole project by :mod:`daifu_cli.passes.frameworks`, given as ``hooks``).

It leaves alone model code that compilers trace (``forward`` methods and functions decorated
with ``torch.jit``/``torch.compile``), dunder methods the interpreter calls (except
``__init__``, ``__call__`` and ``__getitem__``), and test and setup files. ``select`` patterns
add functions, ``exclude`` patterns remove them; policy ``marked`` vaccinates only markers and
``select`` matches, policy ``all`` every function.

Patterns are ``PATH::QUALNAME`` with shell wildcards (``train.py::train``,
``models/*.py::Trainer.*``, ``train.py::<script>``); a pattern without ``::`` means every
function of the matching files. A path pattern without ``/`` matches the file name anywhere.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from daifu_cli.runtime.logical import statement_children

SCRIPT = "<script>"
_TRACED_DECORATORS = {"script", "trace", "compile", "ignore", "unused", "export", "jit"}
_KEPT_DUNDERS = {"__init__", "__call__", "__getitem__"}
_LOOPS = (ast.For, ast.While, ast.AsyncFor)


@dataclass(frozen=True)
class Selection:
    policy: Literal["default", "marked", "all"] = "default"
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Framework hooks of the project: relpath -> qualname -> why (see ``frameworks``).
    hooks: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)


@dataclass
class Decision:
    """Whether one function (or a module's script-level code) is selected, and why."""

    qualname: str
    line: int
    selected: bool
    reason: str
    #: The def node, or ``None`` for script-level code.
    node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    #: Enclosing defs and classes, outermost first.
    path: list[ast.AST] = field(default_factory=list)
    #: Marker decorators to drop from the output.
    markers: list[ast.expr] = field(default_factory=list)


def select(tree: ast.Module, relpath: str, options: Selection) -> list[Decision]:
    """Decide for every function of *tree* (and its script-level code)."""
    test_file = _is_test_or_setup(relpath)
    decisions = []
    for node, path, qualname in _functions(tree):
        decisions.append(_decide(node, path, qualname, relpath, options, test_file))
    decisions.append(_decide_script(tree, relpath, options, test_file))
    return decisions


def _functions(
    tree: ast.AST, path: tuple[ast.AST, ...] = (), prefix: str = ""
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[ast.AST], str]]:
    # Statements only: a def or class never stands inside an expression.
    for node in statement_children(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = prefix + node.name
            yield node, list(path), qualname
            yield from _functions(node, (*path, node), qualname + ".<locals>.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, (*path, node), prefix + node.name + ".")
        else:
            yield from _functions(node, path, prefix)


def _decide(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    path: list[ast.AST],
    qualname: str,
    relpath: str,
    options: Selection,
    test_file: bool,
) -> Decision:
    markers = [d for d in node.decorator_list if is_marker(d)]
    decision = Decision(qualname, node.lineno, False, "", node, path, markers)
    excluded = _matching(options.exclude, relpath, qualname)
    if excluded:
        decision.reason = f"excluded by {excluded!r}"
        return decision
    if markers:
        decision.selected, decision.reason = True, "marked @daifu.transform()"
        return decision
    chosen = _matching(options.select, relpath, qualname)
    if chosen:
        decision.selected, decision.reason = True, f"selected by {chosen!r}"
        return decision
    if options.policy == "all":
        decision.selected, decision.reason = True, "policy 'all'"
        return decision
    if options.policy == "marked":
        decision.reason = "not marked (policy 'marked')"
        return decision
    if test_file:
        decision.reason = "test or setup file"
        return decision
    refusal = _default_refusal(node, path)
    if refusal:
        decision.reason = refusal
        return decision
    hook = options.hooks.get(relpath, {}).get(qualname)
    if hook:
        decision.selected, decision.reason = True, f"called by the framework: {hook}"
        return decision
    if not contains_loop(node.body):
        decision.reason = "no loop (default policy vaccinates functions with loops)"
        return decision
    decision.selected, decision.reason = True, "contains a loop"
    return decision


def _default_refusal(node: ast.FunctionDef | ast.AsyncFunctionDef, path: list[ast.AST]) -> str:
    in_class = bool(path) and isinstance(path[-1], ast.ClassDef)
    if in_class and node.name == "forward":
        return "forward() is model code that torch.compile/jit trace; select it to vaccinate"
    if any(_is_traced(d) for d in node.decorator_list):
        return "compiled by torch.jit/torch.compile"
    name = node.name
    if in_class and name.startswith("__") and name.endswith("__") and name not in _KEPT_DUNDERS:
        return f"{name} is called by the interpreter; select it to vaccinate"
    return ""


def _decide_script(tree: ast.Module, relpath: str, options: Selection, test_file: bool) -> Decision:
    decision = Decision(SCRIPT, 1, False, "")
    body = script_statements(tree)
    if not body:
        decision.reason = "no script-level code"
        return decision
    decision.line = body[0].lineno
    excluded = _matching(options.exclude, relpath, SCRIPT)
    if excluded:
        decision.reason = f"excluded by {excluded!r}"
        return decision
    chosen = _matching(options.select, relpath, SCRIPT, whole_file=False)
    if chosen:
        decision.selected, decision.reason = True, f"selected by {chosen!r}"
        return decision
    loop = _module_level_loop(body)
    if options.policy == "all" and loop is not None:
        decision.selected, decision.reason = True, "policy 'all'"
    elif options.policy != "default":
        decision.reason = f"not selected (policy {options.policy!r})"
    elif test_file:
        decision.reason = "test or setup file"
    elif loop is None:
        decision.reason = "no loop at module level"
    else:
        decision.selected = True
        decision.reason = f"loop at module level (line {loop.lineno})"
    return decision


def script_statements(tree: ast.Module) -> list[ast.stmt]:
    """Module statements that move into the script function: all but the docstring,
    ``from __future__`` imports and everything up to the last ``import *``."""
    body = list(tree.body)
    start = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        if isinstance(body[0].value.value, str):  # type: ignore[attr-defined]
            start = 1
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            start = max(start, index + 1)
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            start = max(start, index + 1)
    return body[start:]


def _module_level_loop(body: list[ast.stmt]) -> ast.stmt | None:
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, _LOOPS):
            return node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            stack.extend(reversed(getattr(node, name, [])))
        for handler in getattr(node, "handlers", []):
            stack.extend(reversed(handler.body))
        for case in getattr(node, "cases", []):
            stack.extend(reversed(case.body))
    return None


def contains_loop(body: list[ast.stmt]) -> bool:
    """Whether *body* has a loop of its own (nested defs and classes do not count)."""
    return _module_level_loop(body) is not None


def is_marker(decorator: ast.expr) -> bool:
    """``@daifu.transform(...)``, ``@daifu.transform`` or ``@transform(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return (
            target.attr == "transform"
            and isinstance(target.value, ast.Name)
            and target.value.id == "daifu"
        )
    return False


def _is_traced(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    parts = []
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if isinstance(target, ast.Name):
        parts.append(target.id)
    parts.reverse()
    return len(parts) >= 2 and parts[0] == "torch" and parts[-1] in _TRACED_DECORATORS


def _is_test_or_setup(relpath: str) -> bool:
    parts = relpath.split("/")
    name = parts[-1]
    return (
        name in ("setup.py", "conftest.py", "noxfile.py")
        or name.startswith("test_")
        or name.endswith("_test.py")
        or any(p in ("tests", "test") for p in parts[:-1])
    )


def _matching(
    patterns: tuple[str, ...], relpath: str, qualname: str, whole_file: bool = True
) -> str | None:
    for pattern in patterns:
        path_pattern, _, name_pattern = pattern.partition("::")
        if not _path_matches(path_pattern, relpath):
            continue
        if not name_pattern:
            if whole_file and qualname != SCRIPT:
                return pattern
            continue
        if fnmatch.fnmatchcase(qualname, name_pattern):
            return pattern
    return None


def _path_matches(pattern: str, relpath: str) -> bool:
    if "/" not in pattern:
        return fnmatch.fnmatchcase(relpath.rsplit("/", 1)[-1], pattern) or fnmatch.fnmatchcase(
            relpath, pattern
        )
    return fnmatch.fnmatchcase(relpath, pattern)
