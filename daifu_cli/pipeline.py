"""The transpiler for one file, as a visible pipeline of passes.

    parse -> select -> analyze -> emit -> format -> verify

:func:`vaccinate_source` runs them and returns a :class:`FileResult`; it never raises for a
problem in the user's code. A function that cannot be vaccinated safely is left as it was and
reported (:class:`Skip`); if the transpiler's own output for a function fails verification,
that function is left as it was too and reported as an internal error.
"""

from __future__ import annotations

import ast
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from daifu_cli import __version__
from daifu_cli.code import Code, Kept, columns, holds_scope
from daifu_cli.passes import analyze, blanks, chunks, emit, select, verify
from daifu_cli.passes import format as fmt
from daifu_cli.render import render
from daifu_cli.runtime import layout, logical, names
from daifu_cli.source import SourceError, SourceFile


@dataclass(frozen=True)
class Options:
    selection: select.Selection = field(default_factory=select.Selection)
    #: Run black on the lines the transform writes (the user's text is never formatted: it
    #: is only re-indented, either way).
    format: bool = True
    line_length: int = 88


@dataclass
class Skip:
    """A function left as it was, and why."""

    qualname: str
    line: int
    reason: str
    internal: bool = False


@dataclass
class FileResult:
    path: str
    #: The output text, or ``None`` when the file is copied unchanged.
    text: str | None
    #: The output as the file's bytes (its encoding, BOM and line endings), as verified.
    data: bytes | None = None
    #: The input's encoding, as Python reads it (``utf-8-sig`` with a BOM).
    encoding: str = "utf-8"
    decisions: list[select.Decision] = field(default_factory=list)
    vaccinated: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    #: ``(vaccinated line, original line)`` for each user statement of vaccinated code.
    linemap: list[tuple[int, int]] = field(default_factory=list)
    #: ``(vaccinated line, original line, length)`` for each run of lines copied unchanged.
    runs: list[tuple[int, int, int]] = field(default_factory=list)
    error: str | None = None
    error_line: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Target:
    decision: select.Decision
    #: The def node, or the list of script statements.
    node: ast.FunctionDef | list[ast.stmt]
    parent: _Target | None = None
    code: Code | None = None
    scope: analyze.Scope | None = None
    #: The last input line its output stands for (from the emitter).
    end: int = 0

    @property
    def is_script(self) -> bool:
        return isinstance(self.node, list)

    @property
    def qualname(self) -> str:
        return self.decision.qualname


#: ``(pass, functions done, functions in all)``, called as the pipeline goes through a file's
#: functions (for progress within a big file; see ``project``).
Steps = Callable[[str, int, int], None]


def _no_steps(phase: str, done: int, total: int) -> None:
    pass


def vaccinate_source(path: str, data: bytes, options: Options = Options(), steps: Steps | None = None) -> FileResult:
    """Run the pipeline on one file's bytes; *steps* hears of each function done."""
    # The cyclic garbage collector is off while a file is transformed: the trees and tables
    # are freed by reference counting, and the collector's passes over the growing heap of a
    # big file's nodes took a quarter of the time and grew faster than the file (a file of
    # 4x the lines took 4.6x the CPU time with it, 4.0x without).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with names.memo():
            return _vaccinate_source(path, data, options, steps or _no_steps)
    finally:
        if collecting:
            gc.enable()


def _vaccinate_source(path: str, data: bytes, options: Options, steps: Steps) -> FileResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        source = SourceFile.from_bytes(path, data)
    except SourceError as exc:
        return FileResult(path, None, error=str(exc), error_line=exc.line)
    timings["parse"] = time.perf_counter() - clock
    result = FileResult(path, None, encoding=source.encoding, timings=timings)
    clock = time.perf_counter()
    result.decisions = select.select(source.tree, path, options.selection)
    timings["select"] = time.perf_counter() - clock
    targets = _analyzed_targets(source, result, steps)
    failed: set[str] = set()
    while targets:
        text, runs = _emit_file(source, targets, options, timings, result, steps)
        linemap: list[tuple[int, int]] = []
        copied: list[tuple[int, int, int]] = []
        output, problem = _verify(source, text, runs, targets, timings, linemap, copied, steps)
        if problem is None:
            result.text, result.data = text, output
            result.linemap = sorted(set(linemap))
            result.runs = sorted(runs + copied)
            result.vaccinated = [t.qualname for t in targets]
            break
        if problem.qualname in failed or problem.qualname not in {t.qualname for t in targets}:
            problem = verify.VerifyError(targets[0].qualname, str(problem))
        failed.add(problem.qualname)
        result.skipped.append(
            Skip(problem.qualname, _line_of(targets, problem.qualname), f"internal error: {problem}", True)
        )
        targets = _without(targets, problem.qualname)
    return result


def _line_of(targets: list[_Target], qualname: str) -> int:
    return next((t.decision.line for t in targets if t.qualname == qualname), 0)


def _analyzed_targets(source: SourceFile, result: FileResult, steps: Steps) -> list[_Target]:
    """Selected targets that can be vaccinated, with their scopes; others become skips."""
    clock = time.perf_counter()
    total = sum(1 for d in result.decisions if d.selected)
    tables: analyze.TableIndex | None = None
    have_tables = False
    targets: list[_Target] = []
    module_problem = analyze.rebound_guarded_name(source.tree, source.text)
    reserved = source.may_name((layout.PREFIX,), prefix=True)
    namespace_calls = source.may_name(analyze.NAMESPACE_CALLS)
    for decision in result.decisions:
        if not decision.selected:
            continue
        steps("analyze", len(targets) + len(result.skipped), total)
        if module_problem is not None:
            result.skipped.append(Skip(decision.qualname, module_problem.line, module_problem.reason))
            continue
        if decision.node is None:
            stmts = select.script_statements(source.tree)
            problem = analyze.check_script(
                stmts,
                star_imports=_has_star_import(source.tree),
                future_annotations=_has_future_annotations(source.tree),
                reserved=reserved,
                namespace_calls=namespace_calls,
            )
            if problem is None:
                target = _Target(decision, stmts)
                target.scope = analyze.script_scope(stmts)
                targets.append(target)
        else:
            problem = analyze.check_function(decision.node, reserved=reserved, namespace_calls=namespace_calls)
            if problem is None:
                if not have_tables:  # once per file, and only where a function is vaccinated
                    top_table, have_tables = _symtable(source), True
                    tables = analyze.TableIndex(top_table) if top_table else None
                node = decision.node
                assert isinstance(node, ast.FunctionDef)
                table = tables.find([*decision.path, node]) if tables else None
                target = _Target(decision, node)
                target.scope = analyze.function_scope(node, emit.cell_bodies(node.body), table)
                targets.append(target)
        if problem is not None:
            result.skipped.append(Skip(decision.qualname, problem.line, problem.reason))
    _link_parents(targets)
    result.timings["analyze"] = time.perf_counter() - clock
    return targets


def _symtable(source: SourceFile):  # type: ignore[no-untyped-def]
    import symtable

    try:
        return symtable.symtable(source.text, source.path, "exec")
    except SyntaxError:
        return None


def _link_parents(targets: list[_Target]) -> None:
    """Each target's nearest enclosing target (functions nest in functions and scripts)."""
    by_node = {id(t.node): t for t in targets if not t.is_script}
    script = next((t for t in targets if t.is_script), None)
    span = (0, -1)
    if script is not None:
        stmts = script.node
        assert isinstance(stmts, list)
        span = (stmts[0].lineno, _script_end(stmts))
    for target in targets:
        if target.is_script:
            continue
        for ancestor in reversed(target.decision.path):
            if id(ancestor) in by_node:
                target.parent = by_node[id(ancestor)]
                break
        else:
            node = target.node
            assert isinstance(node, ast.FunctionDef)
            if script is not None and span[0] <= node.lineno <= span[1]:
                target.parent = script


def _without(targets: list[_Target], qualname: str) -> list[_Target]:
    kept = [t for t in targets if t.qualname != qualname]
    for target in kept:
        target.code = None
        if target.parent is not None and target.parent.qualname == qualname:
            target.parent = target.parent.parent
    return kept


def _depth(target: _Target) -> int:
    depth = 0
    while target.parent is not None:
        target, depth = target.parent, depth + 1
    return depth


def _emit_file(
    source: SourceFile,
    targets: list[_Target],
    options: Options,
    timings: dict[str, float],
    result: FileResult,
    steps: Steps,
) -> tuple[str, list[tuple[int, int, int]]]:
    clock = time.perf_counter()
    future = _has_future_annotations(source.tree)
    kept = Kept()
    nested: dict[int, list[_Target]] = {}  # id(parent) -> its children, in target order
    for target in targets:
        if target.parent is not None:
            nested.setdefault(id(target.parent), []).append(target)
    script_columns: dict[int, int] | None = None
    for done, target in enumerate(sorted(targets, key=_depth, reverse=True)):
        steps("emit", done, len(targets))
        children = {id(t.node): t.code for t in nested.get(id(target), ()) if t.code}
        ends = [(t.node, t.end) for t in nested.get(id(target), ()) if t.code and isinstance(t.node, ast.FunctionDef)]
        roots: list[ast.AST] = list(target.node) if isinstance(target.node, list) else [target.node]
        emitter = emit.Emitter(
            source,
            target.scope,  # type: ignore[arg-type]
            roots,
            origin=source.path.rsplit("/", 1)[-1],
            substitutions=children,  # type: ignore[arg-type]
            method_self=_method_self(target),
            future_annotations=future,
            kept=kept,
            ends=ends,
        )
        if target.is_script:
            stmts = target.node
            assert isinstance(stmts, list)
            # Comments above the first statement stay where they are, above the script function
            # (the replaced span starts at that statement, as a function's starts at its def).
            target.code = emitter.script(stmts, source.stmt_start(stmts[0])[0] - 1)
            target.end = emitter.end
        else:
            node = target.node
            assert isinstance(node, ast.FunctionDef)
            target.code = emitter.function(
                node, qualname=target.qualname, drop_decorators=target.decision.markers
            )
            target.end = emitter.end
            if target.parent is not None and target.parent.is_script:
                if script_columns is None:
                    script_columns = _script_columns(source.tree)
                target.code = _held_in_script(target, options, result, kept, script_columns)
    timings["emit"] = timings.get("emit", 0.0) + time.perf_counter() - clock
    clock = time.perf_counter()
    text, runs = _assemble(source, [t for t in targets if t.parent is None], options, result, kept, steps)
    timings["format"] = timings.get("format", 0.0) + time.perf_counter() - clock
    return text, runs


def _method_self(target: _Target) -> str | None:
    if target.is_script or not target.decision.path:
        return None
    if not isinstance(target.decision.path[-1], ast.ClassDef):
        return None
    node = target.node
    assert isinstance(node, ast.FunctionDef)
    if any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list):
        return None
    params = [*node.args.posonlyargs, *node.args.args]
    return params[0].arg if params else None


def _has_star_import(tree: ast.Module) -> bool:
    return any(
        isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names) for s in tree.body
    )


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(s, ast.ImportFrom)
        and s.module == "__future__"
        and any(a.name == "annotations" for a in s.names)
        for s in tree.body
    )


def _span(source: SourceFile, target: _Target) -> tuple[int, int]:
    """First and last line that the target's output replaces."""
    if target.is_script:
        stmts = target.node
        assert isinstance(stmts, list)
        return stmts[0].lineno, max(_script_end(stmts), target.end)
    node = target.node
    assert isinstance(node, ast.FunctionDef)
    return source.stmt_start(node)[0], max(node.end_lineno or node.lineno, target.end)


def _script_end(stmts: Sequence[ast.stmt]) -> int:
    return max(s.end_lineno or s.lineno for s in stmts)


def _assemble(
    source: SourceFile, top: list[_Target], options: Options, result: FileResult, kept: Kept, steps: Steps
) -> tuple[str, list[tuple[int, int, int]]]:
    """The file's text with each top-level target's span replaced by its output, and the runs
    of lines copied unchanged (for mapping lines of the output back to the input)."""
    lines = source.lines
    # Nothing goes above the lines Python reads the file's properties from (shebang, coding).
    banner_at = source.prologue
    header_at = max(_header_line(source), banner_at + 1)
    out: list[str] = []
    runs: list[tuple[int, int, int]] = []
    cursor = 1
    shim_done = False
    starts = {_span(source, t)[0] for t in top}  # lines where a generated def will stand

    def copy_until(stop: int) -> None:
        nonlocal cursor, shim_done
        while cursor < stop:
            if cursor == header_at and not shim_done:
                out.extend(_shim_lines(_blank_lines_wanted(lines, cursor, starts)))
                shim_done = True
            if runs and runs[-1][0] + runs[-1][2] == len(out) + 1 and runs[-1][1] + runs[-1][2] == cursor:
                first, original, length = runs[-1]
                runs[-1] = (first, original, length + 1)
            else:
                runs.append((len(out) + 1, cursor, 1))
            out.append(lines[cursor - 1])
            cursor += 1

    for done, ((first, last), target) in enumerate(sorted(((_span(source, t), t) for t in top), key=lambda x: x[0])):
        steps("format", done, len(top))
        copy_until(first)
        if not shim_done and header_at <= first:
            out.extend(_shim_lines(2))  # a top-level def follows
            shim_done = True
        if target.is_script:  # its def may follow imports kept at module level
            _space_before_def(out, runs)
        indent = "" if target.is_script else source.indent_of(first)
        out.extend(_final_text(target, indent, options, result, kept))
        cursor = last + 1
    copy_until(len(lines) + 1)
    if not shim_done:
        out.extend(_shim_lines())
    banner = render("module_header.py.j2", version=__version__, origin=source.path).text()
    out.insert(banner_at, banner)
    return "\n".join(out), _shift_runs(runs, banner_at)


def _space_before_def(out: list[str], runs: list[tuple[int, int, int]]) -> None:
    """Give a top-level def about to follow *out* the two blank lines black wants above it (and
    above the comments right over it), moving the runs of copied lines below the insertion."""
    comments = len(out)
    while comments and out[comments - 1].lstrip().startswith("#"):
        comments -= 1
    blank = comments
    while blank and not out[blank - 1].strip():
        blank -= 1
    missing = 2 - (comments - blank)
    if blank == 0 or missing <= 0:
        return  # nothing above it but comments, or enough space already
    out[comments:comments] = [""] * missing
    at = comments + 1  # the first inserted line, counted from 1 as runs are
    moved: list[tuple[int, int, int]] = []
    for first, original, length in runs:
        if first >= at:
            moved.append((first + missing, original, length))
        elif first + length > at:  # the run goes on below the insertion: split it
            above = at - first
            moved += [(first, original, above), (at + missing, original + above, length - above)]
        else:
            moved.append((first, original, length))
    runs[:] = moved


def _shift_runs(runs: list[tuple[int, int, int]], at: int) -> list[tuple[int, int, int]]:
    """The runs after a line was inserted before output line ``at + 1``."""
    shifted = []
    for first, original, length in runs:
        if first > at:
            shifted.append((first + 1, original, length))
        elif first + length - 1 <= at:
            shifted.append((first, original, length))
        else:  # the run straddles the insertion: split it
            head = at - first + 1
            shifted.append((first, original, head))
            shifted.append((at + 2, original + head, length - head))
    return shifted


def _shim_lines(blank_after: int = 0) -> list[str]:
    return render("shim_import.py.j2").text().split("\n") + [""] * blank_after


def _blank_lines_wanted(lines: list[str], at: int, defs: set[int]) -> int:
    """Blank lines to add after the shim import placed before line *at*: black puts two
    before a top-level ``def``/``class`` (and before the comments right above one), so a
    black-formatted input stays black-formatted. *defs* are lines that a generated function
    (a vaccinated one, or the script function) will replace."""
    number = at
    while number <= len(lines) and not lines[number - 1].strip():
        number += 1
    blank = number - at
    while number <= len(lines) and lines[number - 1].startswith("#"):
        number += 1  # comments directly above a def go with it
    if number > len(lines):
        return 0
    if not (lines[number - 1].startswith(("def ", "async def ", "class ", "@")) or number in defs):
        return 0
    return max(0, 2 - blank)


def _header_line(source: SourceFile) -> int:
    """The line before which the shim import goes: after the docstring (and the blank line
    after it) and the future imports."""
    line = 1
    after_docstring = False
    for stmt in source.tree.body:
        docstring = (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
            and stmt is source.tree.body[0]
        )
        future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if not (docstring or future):
            break
        line = (stmt.end_lineno or stmt.lineno) + 1
        after_docstring = docstring
    if after_docstring and line <= len(source.lines) and not source.lines[line - 1].strip():
        line += 1  # black keeps one blank line after a module docstring
    return line


def _final_text(
    target: _Target, indent: str, options: Options, result: FileResult, kept: Kept
) -> list[str]:
    """The target's output at *indent*: black formats the generated code, then the user's
    text (statements, headers, comments) is put back as it was written."""
    width = max(options.line_length - columns(indent), 40)
    code = _formatted(target, width, options, result)
    restored = kept.restore(code, width)
    return [text for text, _ in (restored.indented(indent) if indent else restored)]


def _formatted(target: _Target, width: int, options: Options, result: FileResult) -> Code:
    """The target's code, black-formatted for *width* columns where it needs it."""
    code = target.code
    assert code is not None
    # Black's formatting is needed where the transform wrote a line too long, around nested
    # defs and classes (black spaces them by rules of its own), and on script code, whose
    # module-level blank lines black spaces differently inside a function. All of the user's
    # text is held out, so mostly only blank lines change: black's own blank-line rules give
    # them without black's parse where nothing else can change (``blanks``).
    if options.format and (target.is_script or holds_scope(code) or fmt.needs_black(code, width)):
        try:
            text = code.text()
            formatted = blanks.black_blank_lines(text, width)
            if formatted is not None:  # no string spans lines there: no line to protect
                code = Code([(line, False) for line in formatted.split("\n")])
            else:
                code = fmt.code_from_text(chunks.black_format(text, width))
        except fmt.FormatError as exc:
            result.skipped.append(Skip(target.qualname, target.decision.line, f"left unformatted: {exc}", True))
    return code


def _held_in_script(
    target: _Target, options: Options, result: FileResult, kept: Kept, script_columns: dict[int, int]
) -> Code:
    """A vaccinated function of a script, formatted on its own and held out of the script's
    black run as a stub: black spends its time on the script's own code, not on every function
    of the module again. Formatting it alone for the width it will have is what black does to
    it in place; a function whose final column cannot be known is left inline."""
    column = script_columns.get(id(target.node))
    if column is None or not options.format:
        return target.code  # type: ignore[return-value]
    code = _formatted(target, max(options.line_length - column, 40), options, result)
    return kept.hold(code, scope=True)


def _script_columns(tree: ast.Module) -> dict[int, int]:
    """id(statement) -> where black puts it inside the script function (``def`` and ``try:``
    make 8 columns, each class 4 more), for the statements at module level or in classes
    only (found once per file: looking each function up in the module was quadratic)."""
    columns: dict[int, int] = {}
    todo: list[tuple[list[ast.stmt], int]] = [(tree.body, 0)]
    while todo:
        body, depth = todo.pop()
        for stmt in body:
            columns[id(stmt)] = 8 + 4 * depth
            if isinstance(stmt, ast.ClassDef):
                todo.append((stmt.body, depth + 1))
    return columns


def _verify(
    source: SourceFile,
    text: str,
    runs: list[tuple[int, int, int]],
    targets: list[_Target],
    timings: dict[str, float],
    linemap: list[tuple[int, int]],
    copied: list[tuple[int, int, int]],
    steps: Steps,
) -> tuple[bytes | None, verify.VerifyError | None]:
    """The output's bytes, checked as Python will read them from disk, or the problem."""
    clock = time.perf_counter()
    data = None
    try:
        try:
            data = source.encode(text, runs)
        except UnicodeEncodeError as exc:
            line = text.count("\n", 0, exc.start) + 1
            message = f"output cannot be written in the file's encoding {source.encoding} (line {line})"
            problem = verify.VerifyError("<module>", message, line)
            culprit = _culprit(source, text, targets, line)
            raise verify.VerifyError(culprit, message) if culprit else problem from None
        try:
            tree = verify.compile_check(data, source.path, text)
        except verify.VerifyError as exc:
            culprit = _culprit(source, text, targets, exc.line)
            raise verify.VerifyError(culprit, exc.message) if culprit else exc from None
        future = _has_future_annotations(source.tree)
        inputs, outputs = logical.FunctionIndex(source.tree), logical.FunctionIndex(tree)
        lines = (source.lines, text.split("\n"))
        for done, target in enumerate(targets):
            steps("verify", done, len(targets))
            output = _output_of(inputs, outputs, target)
            original: ast.FunctionDef | list[ast.stmt] = target.node
            if output is None:
                return None, verify.VerifyError(target.qualname, "vaccinated function not found in output")
            linemap.extend(
                verify.check_function(
                    original, output, target.qualname, script=target.is_script,
                    future_annotations=future, runs=copied, lines=lines,
                )
            )
        lost = verify.lost_comment(source.comments.values(), text)
        if lost is not None:
            raise verify.VerifyError(
                _innermost(source, targets, lost.start[0]) or targets[0].qualname,
                f"the comment at line {lost.start[0]} is missing from the output: {lost.string.strip()}",
            )
    except verify.VerifyError as exc:
        return None, exc
    finally:
        timings["verify"] = timings.get("verify", 0.0) + time.perf_counter() - clock
    return data, None


def _innermost(source: SourceFile, targets: list[_Target], line: int) -> str | None:
    """The innermost target whose input span holds *line*."""
    spans = [(_span(source, t), t.qualname) for t in targets]
    inside = [(last - first, name) for (first, last), name in spans if first <= line <= last]
    return min(inside)[1] if inside else None


def _output_of(
    inputs: logical.FunctionIndex, outputs: logical.FunctionIndex, target: _Target
) -> ast.FunctionDef | None:
    """The def that *target* became in the output tree (*outputs* indexes it; *inputs*, the
    input's tree)."""
    if target.is_script:
        return next(
            (s for s in outputs.tree.body if isinstance(s, ast.FunctionDef) and s.name == layout.SCRIPT), None
        )
    matches = outputs.find(target.qualname)
    index = inputs.occurrence(target.qualname, target.node)  # type: ignore[arg-type]
    return matches[index] if index < len(matches) else None


def _culprit(source: SourceFile, text: str, targets: list[_Target], line: int | None) -> str | None:
    """The innermost target whose output holds *line*, where the compiler found a problem
    (so that only that function is left as it was, not every target before it)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    best: tuple[int, str] | None = None
    inputs, outputs = logical.FunctionIndex(source.tree), logical.FunctionIndex(tree)
    for target in targets:
        node = _output_of(inputs, outputs, target) if line else None
        if node is not None and node.lineno <= line <= (node.end_lineno or 0):  # type: ignore[operator]
            size = (node.end_lineno or 0) - node.lineno
            if best is None or size < best[0]:
                best = (size, target.qualname)
    return best[1] if best else None
