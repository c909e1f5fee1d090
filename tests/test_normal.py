"""normal.same must agree with comparing normal.key strings (it is the fast path of verify)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from daifu_cli.runtime import normal

ROOT = Path(__file__).parent
SOURCES = sorted((ROOT / "programs").rglob("*.py")) + sorted((ROOT / "golden").rglob("*.py"))


def _statements(path: Path) -> list[ast.stmt]:
    data = path.read_bytes().split(b"# output\n", 1)[0]
    try:
        tree = ast.parse(data)
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_same_agrees_with_key(path: Path) -> None:
    stmts = _statements(path)
    # Every statement against itself and against its neighbours, both ways round.
    neighbours = list(itertools.pairwise(stmts))
    pairs = [(s, s) for s in stmts] + neighbours + [(b, a) for a, b in neighbours]
    for first, second in pairs:
        for in_cell in (False, True):
            want = normal.key(first) == normal.key(second, in_cell=in_cell)
            assert normal.same(first, second, in_cell=in_cell) is want, ast.unparse(first)


def test_same_sees_small_differences() -> None:
    def stmt(text: str) -> ast.stmt:
        return ast.parse(text).body[0]

    assert normal.same(stmt("x: int = 1"), stmt("x = 1"))  # the annotation is dropped in cells
    assert normal.same(stmt("return"), stmt("return (None,)"), in_cell=True)
    assert normal.same(stmt("break"), stmt("return 'break'"), in_cell=True)
    assert normal.same(stmt("for a in b:\n    pass"), stmt("for a in b:\n    x = 1"))  # header only
    assert not normal.same(stmt("x = 1"), stmt("x = 1.0"))
    assert not normal.same(stmt("x = 1"), stmt("x = True"))
    assert not normal.same(stmt("x = a.b"), stmt("x = a.c"))
    assert not normal.same(stmt("for a in b:\n    pass"), stmt("for a in c:\n    pass"))
    assert not normal.same(stmt("del x"), stmt("x"))
    assert not normal.same(stmt("try:\n    pass\nexcept E:\n    pass"), stmt("try:\n    pass\nexcept F:\n    pass"))


def test_walk_visits_what_ast_walk_visits_in_its_order() -> None:
    """names.walk replaces ast.walk in the runtime (which imports on every call); the runtime's
    searches return the first match, so the order must be the same."""
    from daifu_cli.runtime.names import walk

    for path in SOURCES:
        try:
            tree = ast.parse(path.read_bytes().split(b"# output\n", 1)[0])
        except SyntaxError:
            continue
        assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)], path
