"""What the runtime knows about the code that is running.

Each vaccinated module registers itself as it starts (:func:`register_module`) with a snapshot
of its source, because the file may be replaced by a fix before the first crash. Continuations
(the code that resumes after a crash) register their source and the map from their lines back
to the user's statements (:class:`ContinuationRecord`).
"""

from __future__ import annotations

import ast
import io
import linecache
import sys
import threading
import tokenize
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from . import layout, logical

_lock = threading.RLock()


@dataclass
class ModuleRecord:
    name: str
    path: str
    source: str
    _tree: ast.Module | None = None
    _views: dict[int, logical.Function] = field(default_factory=dict)
    _parent_map: dict[ast.AST, ast.AST] | None = None

    @property
    def tree(self) -> ast.Module:
        if self._tree is None:
            self._tree = ast.parse(self.source, self.path)
        return self._tree

    def update(self, source: str) -> None:
        """A fix replaced the module's code: later crashes read the new source."""
        self.source, self._tree, self._views = source, None, {}
        self._parent_map = None
        self.__dict__.pop("_defs", None)

    def def_for(self, code: CodeType) -> ast.FunctionDef | None:
        """The def whose compiled code is *code* (matched by name and first line)."""
        defs = self.__dict__.get("_defs")
        if defs is None:  # one walk of the module for every frame of every crash in it
            defs = self.__dict__["_defs"] = self._index_defs()
        return defs.get((code.co_name, code.co_firstlineno))  # type: ignore[no-any-return]

    def _index_defs(self) -> dict[tuple[str, int], ast.FunctionDef]:
        """(code name, first line) -> the def compiled to such code (defs are statements: the
        walk stays out of expressions, nine nodes in ten)."""
        index: dict[tuple[str, int], ast.FunctionDef] = {}
        for node in self._parents():
            if not isinstance(node, ast.FunctionDef):
                continue
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            names = (layout.SCRIPT, "<module>") if node.name == layout.SCRIPT else (node.name,)
            for name in names:
                index.setdefault((name, first), node)
        return index

    def _parents(self) -> dict[ast.AST, ast.AST]:
        """Each statement -> the statement (or module) whose block holds it (an ``except`` or
        ``case`` clause counts as its statement): what :meth:`qualname_of` and
        :meth:`enclosing_class` need, from a walk of the statements only."""
        if self._parent_map is None:
            parents: dict[ast.AST, ast.AST] = {}
            todo: list[ast.AST] = [self.tree]
            while todo:
                node = todo.pop()
                for child in statements_in(node):
                    parents[child] = node
                    todo.append(child)
            self._parent_map = parents
        return self._parent_map

    def qualname_of(self, node: ast.AST) -> str:
        """The ``__qualname__`` the def *node* gives its function."""
        if getattr(node, "name", None) == layout.SCRIPT:
            return "<module>"
        parents = self._parents()
        parts = [getattr(node, "name", "?")]
        current = parents.get(node)
        while current is not None and not isinstance(current, ast.Module):
            if isinstance(current, ast.ClassDef):
                parts.append(current.name)
            elif isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if current.name == layout.SCRIPT:
                    break
                if not layout.parse_cell_name(current.name):
                    parts.append(f"{current.name}.<locals>")
            current = parents.get(current)
        return ".".join(reversed(parts))

    def enclosing_class(self, node: ast.AST) -> str | None:
        """Name of the class *node* is a method of (for name mangling and ``super()``)."""
        parent = self._parents().get(node)
        return parent.name if isinstance(parent, ast.ClassDef) else None

    def enclosing_class_by_qualname(self, qualname: str) -> str | None:
        node = logical.find_function(self.tree, qualname)
        return self.enclosing_class(node) if node is not None else None

    def view(self, node: ast.FunctionDef) -> logical.Function:
        with _lock:
            found = self._views.get(id(node))
            if found is None:
                found = self._views[id(node)] = logical.logical_function(node)
            return found


def statements_in(node: ast.AST) -> list[ast.stmt]:
    """The statements of *node*'s blocks (its clauses' too)."""
    out: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list):
            out.extend(block)
    for clause in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
        out.extend(clause.body)
    return out


@dataclass
class ContinuationRecord:
    """A compiled continuation: its text, and for each line the user statement it runs."""

    filename: str
    source: str
    view: logical.Function
    #: Line -> (full logical path in ``view``, phase; see :mod:`.frames`).
    lines: dict[int, tuple[tuple, str]]
    context: Any
    module: ModuleRecord
    qualname: str


modules: dict[str, ModuleRecord] = {}
continuations: dict[str, ContinuationRecord] = {}


def register_module(name: str) -> None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if not path:
        return
    try:
        source = read_source(path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return
    with _lock:
        modules[name] = ModuleRecord(name, path, source)


def read_source(path: str) -> str:
    """A Python file's text, decoded as the interpreter does (PEP 263 cookie, BOM)."""
    with tokenize.open(path) as handle:
        return handle.read()


def decode_source(data: bytes) -> str:
    """*data* decoded as the interpreter decodes a source file, newlines translated."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _adopt_started() -> None:
    """Records for the modules that started before this module was imported."""
    from . import started

    for name, path, data in started:
        try:
            modules[name] = ModuleRecord(name, path, decode_source(data))
        except (SyntaxError, UnicodeDecodeError, LookupError):
            continue
    started.clear()


_adopt_started()


def module_for(globals_: dict[str, Any]) -> ModuleRecord | None:
    return modules.get(globals_.get("__name__", ""))


def module_by_path(path: str) -> ModuleRecord | None:
    for record in modules.values():
        if record.path == path:
            return record
    return None


def add_continuation(record: ContinuationRecord) -> None:
    with _lock:
        continuations[record.filename] = record
    lines = record.source.splitlines(keepends=True)
    linecache.cache[record.filename] = (len(record.source), None, lines, record.filename)
