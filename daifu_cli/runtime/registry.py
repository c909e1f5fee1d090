"""What the runtime knows about the code that is running.

Each vaccinated module registers itself as it starts (:func:`register_module`) with a snapshot
of its source, because the file may be replaced by a fix before the first crash. A fix adds a
:class:`Generation` to the module's record and keeps the older ones: frames that were running
when it landed go on running their old code, at its old line numbers, and are read against the
generation their code was compiled from (:meth:`ModuleRecord.generation_for`). Continuations
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
from types import CodeType, FrameType
from typing import Any

from . import layout, logical

_lock = threading.RLock()


def fingerprint(code: CodeType) -> tuple[int, bytes, bytes]:
    """What identifies a compiled function across the renamings the runtime applies (a
    cell's or script's ``co_name``, qualnames in its constants): its first line, bytecode and
    line table. Two code objects with the same fingerprint run the same instructions at the
    same lines, so either generation that holds it reads them the same way."""
    table = getattr(code, "co_linetable", None)
    if table is None:  # Python 3.9
        table = code.co_lnotab
    return (code.co_firstlineno, code.co_code, table)


def _nested_codes(code: CodeType) -> list[CodeType]:
    found = [code]
    index = 0
    while index < len(found):
        found.extend(c for c in found[index].co_consts if isinstance(c, CodeType))
        index += 1
    return found


@dataclass(eq=False)
class Generation:
    """One version of a module's code: the vaccinated source it was compiled from and what the
    runtime reads from it (tree, defs, logical views).

    A fix gives changed functions new code for their *next* call; frames already running keep
    the code they started with, at that code's line numbers (and a function the fix did not
    change keeps its old code even when the fix moved its lines). So every generation stays
    readable for as long as the program runs, and each frame is read against its own.
    """

    path: str
    source: str
    number: int
    #: Module code objects compiled from ``source`` (a fix's code, the defs it added);
    #: the first generation has none: its source is compiled again when a frame needs telling
    #: apart from a later generation.
    compiled: list[CodeType] = field(default_factory=list)
    _tree: ast.Module | None = None
    _views: dict[int, logical.Function] = field(default_factory=dict)
    _parent_map: dict[ast.AST, ast.AST] | None = None
    _prints: set[tuple[int, bytes, bytes]] | None = None

    @property
    def tree(self) -> ast.Module:
        if self._tree is None:
            self._tree = ast.parse(self.source, self.path)
        return self._tree

    def fingerprints(self) -> set[tuple[int, bytes, bytes]]:
        with _lock:
            if self._prints is None:
                codes = self.compiled
                if not codes:
                    try:
                        codes = [compile(self.source, self.path, "exec", dont_inherit=True)]
                    except (SyntaxError, ValueError):  # it compiled at import; be safe anyway
                        codes = []
                self._prints = {fingerprint(c) for top in codes for c in _nested_codes(top)}
            return self._prints

    def add_code(self, code: CodeType) -> None:
        """Code compiled from this generation's source outside its module code (a def a fix
        added, compiled on its own)."""
        with _lock:
            self.compiled.append(code)
            if self._prints is not None:
                self._prints.update(fingerprint(c) for c in _nested_codes(code))

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


class ModuleRecord:
    """A vaccinated module: every generation of its code, the newest last."""

    def __init__(self, name: str, path: str, source: str) -> None:
        self.name = name
        self.path = path
        self.generations: list[Generation] = [Generation(path, source, 0)]
        #: id(code) -> (code, its generation): the code is held so that the id stays its own.
        self._owners: dict[int, tuple[CodeType, Generation | None]] = {}

    def __repr__(self) -> str:
        return f"<ModuleRecord {self.name} ({len(self.generations)} generations)>"

    @property
    def current(self) -> Generation:
        return self.generations[-1]

    @property
    def source(self) -> str:
        return self.current.source

    @property
    def tree(self) -> ast.Module:
        return self.current.tree

    def update(self, source: str, code: CodeType | None = None) -> Generation:
        """A fix replaced the module's code (*code*: the module code compiled from *source*):
        new calls read the new generation, running frames keep theirs."""
        with _lock:
            generation = Generation(self.path, source, len(self.generations), [code] if code is not None else [])
            self.generations.append(generation)
            self._owners.clear()
            return generation

    def generation_for(self, code: CodeType) -> Generation | None:
        """The generation whose source *code* was compiled from; ``None`` if none is known
        (which the caller must say: reading it against another generation's lines would
        name the wrong statement)."""
        if len(self.generations) == 1:
            return self.current  # never patched: everything running is the first generation
        with _lock:
            known = self._owners.get(id(code))
            if known is not None and known[0] is code:
                return known[1]
            wanted = fingerprint(code)
            found = next((g for g in reversed(self.generations) if wanted in g.fingerprints()), None)
            self._owners[id(code)] = (code, found)
            return found

    # The current generation's readers, for callers that work on the code as it is now.

    def def_for(self, code: CodeType) -> ast.FunctionDef | None:
        generation = self.generation_for(code)
        return generation.def_for(code) if generation is not None else None

    def qualname_of(self, node: ast.AST) -> str:
        return self.current.qualname_of(node)

    def enclosing_class(self, node: ast.AST) -> str | None:
        return self.current.enclosing_class(node)

    def enclosing_class_by_qualname(self, qualname: str) -> str | None:
        return self.current.enclosing_class_by_qualname(qualname)

    def view(self, node: ast.FunctionDef) -> logical.Function:
        return self.current.view(node)


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
    #: The generation of the module whose view the continuation was built from (its
    #: statements' line numbers are that generation's).
    generation: Generation | None = None
    #: Line -> line in that generation's vaccinated source of the statement it copies (any
    #: statement, also inside the defs the continuation holds), for reports.
    origins: dict[int, int] = field(default_factory=dict)


modules: dict[str, ModuleRecord] = {}
continuations: dict[str, ContinuationRecord] = {}

#: Records by file (``None``: not a vaccinated module): every frame that the analysis of an
#: exception reads asks, so it must not scan all modules each time.
_by_path: dict[str, ModuleRecord | None] = {}


def _add(record: ModuleRecord) -> None:
    with _lock:
        known = modules.get(record.name)
        if known is not None and known.path == record.path:
            # Imported again (importlib.reload): frames of the first import may still run.
            if known.source != record.source:
                known.update(record.source)
            return
        modules[record.name] = record
        _by_path.clear()


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
        _add(ModuleRecord(name, path, source))


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
            _add(ModuleRecord(name, path, decode_source(data)))
        except (SyntaxError, UnicodeDecodeError, LookupError):
            continue
    started.clear()


_adopt_started()


def module_for(globals_: dict[str, Any]) -> ModuleRecord | None:
    return modules.get(globals_.get("__name__", ""))


def runs_vaccinated(frame: FrameType) -> bool:
    """Whether *frame* runs a vaccinated function (or script-level code) or resumed code."""
    module = module_for(frame.f_globals)
    if module is not None and module.def_for(frame.f_code) is not None:
        return True
    return frame.f_code.co_filename in continuations


def module_by_path(path: str) -> ModuleRecord | None:
    found = _by_path.get(path, False)
    if found is False:
        with _lock:  # not interleaved with a registration's clear
            found = _by_path[path] = next((r for r in modules.values() if r.path == path), None)
    return found  # type: ignore[return-value]


def add_continuation(record: ContinuationRecord) -> None:
    with _lock:
        continuations[record.filename] = record
    lines = record.source.splitlines(keepends=True)
    linecache.cache[record.filename] = (len(record.source), None, lines, record.filename)
