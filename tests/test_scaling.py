"""Every pass is linear in the file's size: counted work, not timed.

A file of N small functions used to take time growing with N squared (each function's lookup
walked the whole module and listed the module's symbol tables). Timing tests are noisy on shared
machines, so these count the work instead: the calls the transpiler makes (Python and builtin
functions, counted by cProfile, which is deterministic for the same input) and the lines handed to
black (compiled, so its calls are not seen). For each file shape of ``bench/shapes.py``, a file
8 times larger must cost at most ~10 times the work (linear: 8; the quadratic code did 20 to 60).
"""

from __future__ import annotations

import ast
import cProfile
import pstats
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench package

from bench.shapes import SHAPES
from daifu_cli import pipeline
from daifu_cli.passes import format as fmt
from daifu_cli.runtime import handled, logical, registry

SMALL, FACTOR = 240, 8
#: Linear work grows by FACTOR; fixed costs make it a little less. Quadratic work (the code this
#: guards against) grew by 20 to 60 here.
BOUND = FACTOR * 1.25


def _work(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(calls made, lines given to black) to vaccinate *text*."""
    black_lines = 0
    real = fmt.black_format

    def counting(code: str, width: int, versions: frozenset[object] | None = None) -> str:
        nonlocal black_lines
        black_lines += code.count("\n") + 1
        return real(code, width, versions)

    monkeypatch.setattr(fmt, "black_format", counting)
    profiler = cProfile.Profile()
    profiler.enable()
    result = pipeline.vaccinate_source("shape.py", text.encode())
    profiler.disable()
    assert result.text is not None and not result.skipped, result.skipped
    calls = sum(row[1] for row in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]
    return calls, black_lines


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    pipeline.vaccinate_source("warm.py", SHAPES["many_functions"](40).encode())  # imports, templates


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_is_linear_in_file_size(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = SHAPES[shape](SMALL), SHAPES[shape](SMALL * FACTOR)
    lines = large.count("\n") / small.count("\n")
    calls_small, black_small = _work(small, monkeypatch)
    calls_large, black_large = _work(large, monkeypatch)
    assert calls_large / calls_small <= BOUND * lines / FACTOR, (
        f"{shape}: {lines:.1f} times the lines cost {calls_large / calls_small:.1f} times the calls "
        f"({calls_small} -> {calls_large})"
    )
    if black_small:
        assert black_large / black_small <= BOUND * lines / FACTOR, (shape, black_small, black_large)


# -- the runtime's lookups at crash time ----------------------------------------------------

_VARIED = '''
def f(x):
    for i in x:
        pass
    def g():
        def f():
            return 1
        return f
    return g

class A:
    def f(self):
        for i in self:
            pass
    @property
    def p(self):
        return 1
    @p.setter
    def p(self, value):
        for i in value:
            pass
    class B:
        def f(self):
            return 2
    if True:
        def late(self):
            return 3
    else:
        def late(self):
            return 4

try:
    def f(x):
        return x
except ImportError:
    def f(x):
        return -x

def g():
    class A:
        def f(self):
            return 0
    return A
'''


def _qualnames(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                out.add(child.name)
    names = {"f", "g", "A.f", "A.p", "A.late", "A.B.f", "f.<locals>.g", "f.<locals>.g.<locals>.f",
             "g.<locals>.A.f", "g.<locals>.A", "A.B", "nothing", "A.nothing"}
    return out | names


def test_function_index_answers_as_find_functions() -> None:
    vaccinated = pipeline.vaccinate_source("varied.py", _VARIED.encode(), pipeline.Options(
        selection=pipeline.select.Selection(policy="all"))).text
    assert vaccinated is not None
    for text in (_VARIED, vaccinated):
        tree = ast.parse(text)
        index = logical.FunctionIndex(tree)
        for qualname in sorted(_qualnames(tree)):
            expected = logical.find_functions(tree, qualname)
            assert index.find(qualname) == expected, qualname
            for node in expected:
                assert index.occurrence(qualname, node) == logical.occurrence(tree, qualname, node)
        assert index.find("anything", script=True) == logical.find_functions(tree, "anything", script=True)


def test_function_index_walks_each_scope_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing a module of N functions lists each scope's children once (the lookups that
    were made per function listed the module's for each)."""
    source = SHAPES["many_functions"](4000)
    tree = ast.parse(pipeline.vaccinate_source("m.py", source.encode()).text or "")
    seen = []
    real = logical._scope_children
    monkeypatch.setattr(logical, "_scope_children", lambda node: seen.append(node) or real(node))
    index = logical.FunctionIndex(tree)
    assert len(seen) == len({id(n) for n in seen}) <= 2 * (1 + 1000)  # the module, each def (and the script's)
    assert [len(index.find(f"f{i}")) for i in range(1000)] == [1] * 1000


def test_crash_time_lookups_index_the_module_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime finds the def of each frame of a crash from one walk of the module's
    statements (not of all its nodes, and not one per frame)."""
    source = SHAPES["many_functions"](2000)
    text = pipeline.vaccinate_source("m.py", source.encode()).text or ""
    tree = ast.parse(text)
    visited: list[ast.AST] = []
    real = registry.statements_in
    monkeypatch.setattr(registry, "statements_in", lambda node: visited.append(node) or real(node))
    monkeypatch.setattr(handled, "walk", lambda node: pytest.fail("walked every node"))  # type: ignore[arg-type]
    record = registry.ModuleRecord("m", "m.py", text)
    module_code = compile(text, "m.py", "exec")
    codes = [c for c in module_code.co_consts if isinstance(c, type(module_code))][::7]
    assert len(codes) > 50
    counts = []
    for code in codes:
        node = record.def_for(code)
        assert node is not None and node.name == code.co_name
        assert record.qualname_of(node) == code.co_name
        scope = handled._find_scope(tree, code)
        assert isinstance(scope, ast.FunctionDef) and scope.name == code.co_name
        counts.append(len(visited))
    statements = sum(isinstance(n, ast.stmt) for n in ast.walk(tree))
    assert counts[0] == counts[-1] <= 2 * (statements + 1)  # one walk each for the record and handled


# -- progress within a big file ---------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_within_a_big_file(jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``vaccinate_project`` reports the functions of a file that takes more than a second
    (here: any file), from the worker processes too; the outcome is the same."""
    from daifu_cli import project

    monkeypatch.setattr(project, "STEPS_AFTER", 0.0)
    monkeypatch.setattr(project, "_STEPS_EVERY", 0.0)
    source = tmp_path / "src"
    source.mkdir()
    (source / "big.py").write_text(SHAPES["many_functions"](400))
    for index in range(20):  # enough files for the process pool
        (source / f"small_{index}.py").write_text(SHAPES["many_functions"](8))
    heard: list[tuple[str, str, int, int]] = []
    outcome = project.vaccinate_project(
        project.Request(source, tmp_path / "out", jobs=jobs), file_progress=lambda *m: heard.append(m)
    )
    assert outcome.python_files == 21 and not outcome.errors
    big = [m for m in heard if m[0] == "big.py"]
    assert {m[1] for m in big} >= {"analyze", "emit", "format", "verify"}
    assert ("big.py", "emit", 50, 100) in big


def test_progress_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from daifu_cli import project

    heard: list[tuple[str, str, int, int]] = []
    steps = project._Steps("f.py", lambda *m: heard.append(m))
    steps("emit", 1, 2)
    assert heard == []
    steps.started -= 2.0
    steps.last -= 2.0
    steps("emit", 2, 2)
    assert heard == [("f.py", "emit", 2, 2)]


# -- black a piece at a time --------------------------------------------------------------------


def _black_inputs(texts: list[tuple[str, str, pipeline.Options]], monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    from daifu_cli.passes import chunks

    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(chunks, "black_format", lambda text, width, chunk_lines=None: seen.append((text, width)) or fmt.black_format(text, width))
    # every formatting call goes to black here (the blank-lines fast path would take most)
    monkeypatch.setattr(pipeline.blanks, "black_blank_lines", lambda text, width: None)
    for name, text, options in texts:
        pipeline.vaccinate_source(name, text.encode(), options)
    monkeypatch.undo()
    return seen


def _golden_inputs() -> list[tuple[str, str, pipeline.Options]]:
    from test_golden import CASES, parse_case

    out = []
    for path in CASES:
        try:
            options, source, _ = parse_case(path)
        except BaseException:  # a case skipped on this Python
            continue
        out.append((path.name, source, options))
    return out


def test_black_in_pieces_gives_black_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut into the smallest pieces the cutting rules allow (and into pieces of 40 lines), every
    text the pipeline gives black (the golden cases', the shapes') comes out as black formats
    it in one call; and the shapes are really cut."""
    from daifu_cli.passes import chunks

    texts = _golden_inputs() + [(f"{name}.py", make(600), pipeline.Options()) for name, make in SHAPES.items()]
    inputs = _black_inputs(texts, monkeypatch)
    assert len(inputs) > 20
    calls = []
    real = fmt.black_format
    monkeypatch.setattr(fmt, "black_format", lambda text, width, versions=None: calls.append(1) or real(text, width, versions))
    cut = 0
    for text, width in inputs:
        try:
            whole = real(text, width)
        except fmt.FormatError:
            continue
        for size in (2, 40):
            calls.clear()
            assert chunks.black_format(text, width, chunk_lines=size) == whole, (size, text[:200])
            cut += len(calls) > 1
    assert cut >= 10


def test_pieces_are_formatted_for_the_whole_texts_python_versions() -> None:
    """A walrus in one piece makes black format the whole text for Python 3.8+, where a call
    exploded one argument per line gets a trailing comma after ``*args``; the piece holding
    that call alone would be formatted for 3.3+, without it."""
    from daifu_cli.passes import chunks

    text = (
        "def __daifu_script__():\n    try:\n        x = (y := 1)\n        a = 1\n        b = 2\n        c = 2\n"
        f"        foo(*{'a' * 30}, *{'b' * 35}, *{'c' * 40}, *dddd)\n"
        "        d = 3\n        e = 4\n    except BaseException as _daifu_e:\n        raise"
    )
    whole = fmt.black_format(text, 88)
    assert "*dddd,\n" in whole
    assert chunks.black_format(text, 88, chunk_lines=2) == whole
