"""Shared test options and helpers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite the `# output` part of golden cases"
    )
    parser.addoption(
        "--run-wheel", action="store_true", help="build and install the wheel (nox -s package)"
    )
    parser.addoption(
        "--target-python",
        default=sys.executable,
        help="interpreter that runs the original and vaccinated programs (3.9 to 3.13)",
    )


@pytest.fixture
def target_python(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--target-python"))


def run_python(python: str, script: str, cwd: Path, timeout: float = 120, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a script in a fresh interpreter, with daifu's waiting off unless asked."""
    full_env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "DAIFU_CONSOLE": "off",
        "DAIFU_WAIT": "0",  # a crash propagates at once, as without daifu
        "DAIFU_POLICIES": "0",  # and is not retried: the comparison is of plain semantics
        **(env or {}),
    }
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(
        [python, script], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs
    )


requires_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs PyTorch")


# -- the user's text reaches the output as written, only re-indented --------------------------

#: Calls that daifu rewrites in cells and script-level code (zero-argument super() names its
#: arguments; locals()/vars()/dir()/exec()/eval() read the module namespace in a script).
_EDITED_CALLS = {"super", "locals", "vars", "dir", "exec", "eval"}


def changed_user_lines(source: str, output: str) -> list[str]:
    """The lines of *source* that are not in *output* as themselves (leading whitespace aside:
    lines are re-indented where they move into a cell), as a multiset.

    The transform must change these lines, and only these (the whole file is judged as if
    every function were vaccinated):

    * the header lines of a ``for`` (``for`` to ``:``): its iterable is hoisted into
      ``_daifu_it_Ln = __daifu__.iter(...)``, whose lines hold the iterable's lines as written;
    * a line holding more than one statement (``a; b``, ``if x: y``, ``else: y``): the runtime
      finds the failing statement by its line, so each statement gets a line of its own. Such
      a line is either in the output as it is (code daifu left alone) or each of its
      statements (and each header on it) is there as written;
    * the lines of statements rewritten inside cells or script-level code: ``return``,
      ``break``, ``continue`` (signals), ``global``/``nonlocal`` (declared at the top of the
      cell), annotated assignments (the annotation moves), and statements calling
      super/locals/vars/dir/exec/eval;
    * decorator lines naming daifu (its marker is dropped).
    """
    import ast
    from collections import Counter

    tree = ast.parse(source)
    lines = source.split("\n")
    have = Counter(line.lstrip() for line in output.split("\n"))
    exempt: set[int] = set()
    starts: dict[int, list[ast.stmt]] = {}
    ends: dict[int, list[ast.stmt]] = {}
    hoisted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            starts.setdefault(node.lineno, []).append(node)
            if not hasattr(node, "body"):
                ends.setdefault(node.end_lineno or node.lineno, []).append(node)
        if isinstance(node, ast.For):
            hoisted.update(range(node.lineno, _colon_after(source, node.iter) + 1))
        elif _rewritten(node) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _EDITED_CALLS
        ):
            exempt.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))  # type: ignore[attr-defined]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                if "daifu" in ast.unparse(decorator):
                    exempt.update(range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1))
    exempt |= hoisted
    missing: list[str] = []
    for number, here in starts.items():
        line = lines[number - 1]
        cols = sorted(_column(line, s.col_offset) for s in here)
        shared = len(here) > 1 or line[: cols[0]].strip() or any(s.lineno != number for s in ends.get(number, []))
        if not shared or number in exempt:
            continue
        exempt.add(number)
        if have[line.lstrip()]:
            continue  # left as it was
        pieces = [line[: cols[0]].strip()] if number not in hoisted else []  # ``else:``, ``x = (...);``
        for stmt in here:
            at = _column(line, stmt.col_offset)
            later = [c for c in cols if c > at]
            text = line[at : later[0] if later else len(line)].strip().rstrip(";").strip()
            if isinstance(stmt, ast.For) or _rewritten(stmt) or not text:
                continue
            if not hasattr(stmt, "body") and (stmt.end_lineno or stmt.lineno) != number:
                continue  # a multi-line statement: its other lines are checked as lines
            pieces.append(text.split("#", 1)[0].strip() if "#" in text and not hasattr(stmt, "body") else text)
        missing += [f"(statement on line {number}) {p}" for p in pieces if p and p not in output]
    wanted = Counter(
        line.lstrip() for number, line in enumerate(lines, 1) if line.strip() and number not in exempt
    )
    missing += [line for line, count in wanted.items() for _ in range(count - have[line])]
    return missing


def _column(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _rewritten(node: object) -> bool:
    """Statements the transform rewrites in cells and script-level code."""
    import ast

    if isinstance(node, (ast.Return, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.AnnAssign)):
        return True
    if isinstance(node, ast.stmt) and not hasattr(node, "body"):
        return any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _EDITED_CALLS
            for n in ast.walk(node)
        )
    return False


def _colon_after(source: str, node: object) -> int:
    """The line of the ``:`` ending the header whose last expression is *node*."""
    import io
    import tokenize

    end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    depth = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.start < end:
            continue
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif token.type == tokenize.OP and token.string == ":" and depth <= 0:
            return token.start[0]
    return end[0]
