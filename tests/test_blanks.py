"""Black's blank lines without black (``passes/blanks.py``) equal black's output, everywhere
the fast path answers: over every formatting call that vaccinating the differential corpus and
the benchmark's file shapes makes (every function with a loop selected). Checked by hand on
200 files of the standard library too: 468 of 497 calls answered, all equal to black's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import shapes
from daifu_cli import pipeline
from daifu_cli.passes import blanks, chunks
from daifu_cli.passes.select import Selection
from daifu_cli.pipeline import Options, vaccinate_source

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))


def _compared(monkeypatch: pytest.MonkeyPatch, name: str, data: bytes) -> tuple[int, int]:
    """(calls answered by the fast path, calls) for vaccinating *data*, after checking each
    answer against black's."""
    fast = blanks.black_blank_lines
    counts = [0, 0]

    def checked(text: str, width: int) -> str | None:
        answer = fast(text, width)
        counts[1] += 1
        if answer is not None:
            counts[0] += 1
            assert answer == chunks.black_format(text, width), (
                f"{name}: differs from black on\n{text}"
            )
        return answer

    monkeypatch.setattr(pipeline.blanks, "black_blank_lines", checked)
    vaccinate_source(name, data, Options(Selection(policy="all")))
    return counts[0], counts[1]


def test_the_corpus_gets_black_s_own_blank_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    answered = calls = 0
    for path in PROGRAMS:
        a, c = _compared(monkeypatch, path.name, path.read_bytes())
        answered, calls = answered + a, calls + c
    assert calls > 50 and answered > calls * 0.8, (answered, calls)


@pytest.mark.parametrize("shape", sorted(shapes.SHAPES))
def test_every_shape_gets_black_s_own_blank_lines(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    answered, calls = _compared(monkeypatch, f"{shape}.py", shapes.SHAPES[shape](800).encode())
    assert answered == calls  # these shapes need no more than blank lines (or no black at all)


@pytest.mark.parametrize(
    "text",
    [
        "def f():\n    x = 'single'\n",  # black would change the quotes
        "def f():\n    a = 1; b = 2\n",  # black would split the line
        "def f():\n    x = (\n        1)\n",  # brackets over lines
        "def f():\n      x = 1\n",  # indented by six
        'def f():\n    """doc"""\n',  # a docstring: read through black's parse tree
        "def f():\n    import os\n",
        "def f():\n    if x:\n        a\n      # between depths\n    b\n",
    ],
)
def test_what_black_would_change_otherwise_goes_to_black(text: str) -> None:
    assert blanks.black_blank_lines(text, 88) is None


@pytest.mark.parametrize(
    "text",
    [
        # a comment above a def: black puts the def's blank line above the comment, which the
        # tracker decides only once it reaches the def (found on the standard library)
        "def f():\n    x = 1\n    # note\n    def g():\n        pass\n    y = 2\n",
        "def f():\n    if x:\n        a\n    # one\n    # two\n    class C: ...\n    b\n",
        "@d\ndef f():\n\n\n\n    x = 1\n    def g(): ...\n    return g\n",
        "def f():\n    try:\n        a\n    except E as e:\n        b\n    else:\n        return None\n    return c\n",
    ],
)
def test_the_fast_path_agrees_with_black(text: str) -> None:
    assert blanks.black_blank_lines(text, 88) == chunks.black_format(text, 88)
