"""Golden cases: ``tests/golden/<topic>/<case>.py`` hold the input, a line ``# output``, then
the expected vaccinated text (black's convention). A case without ``# output`` must come out
unchanged (nothing selected, or a construct daifu leaves alone); a first line ``# flags: ...``
passes options (``--select``, ``--policy``, ``--no-format``), and a first line
``# requires-python: 3.11`` skips the case where the transpiler cannot parse it. ``pytest --update-goldens``
rewrites the expected parts; review the diff before committing.

Each case also checks: the output compiles, every comment of the input survives, and a second
vaccination of the same input gives the same bytes.
"""

from __future__ import annotations

import io
import shlex
import sys
import tokenize
from collections import Counter
from pathlib import Path

import pytest

from daifu_cli.passes.select import Selection
from daifu_cli.pipeline import Options, vaccinate_source

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.rglob("*.py"))
MARKER = "# output\n"


def parse_case(path: Path) -> tuple[Options, str, str | None]:
    text = path.read_text(encoding="utf-8")
    if text.startswith("# requires-python:"):
        first, text = text.split("\n", 1)
        needed = tuple(int(p) for p in first.split(":", 1)[1].strip().split("."))
        if sys.version_info[:2] < needed:
            pytest.skip(f"the transpiler needs Python {'.'.join(map(str, needed))} to parse this case")
    options = Options(Selection(policy="all"))
    if text.startswith("# flags:"):
        first, text = text.split("\n", 1)
        options = _options(shlex.split(first[len("# flags:") :]))
    if MARKER in text:
        source, expected = text.split(MARKER, 1)
        return options, source, expected
    return options, text, None


def _options(flags: list[str]) -> Options:
    policy, select, exclude, fmt = "all", [], [], True
    it = iter(flags)
    for flag in it:
        if flag == "--policy":
            policy = next(it)
        elif flag == "--select":
            select.append(next(it))
        elif flag == "--exclude":
            exclude.append(next(it))
        elif flag == "--no-format":
            fmt = False
        else:
            raise ValueError(f"unknown flag {flag}")
    return Options(Selection(policy, tuple(select), tuple(exclude)), format=fmt)  # type: ignore[arg-type]


def comments(text: str) -> list[str]:
    return [
        t.string
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type == tokenize.COMMENT
    ]


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(GOLDEN)) for p in CASES])
def test_golden(path: Path, request: pytest.FixtureRequest) -> None:
    options, source, expected = parse_case(path)
    result = vaccinate_source(path.name, source.encode(), options)
    assert result.error is None, result.error
    internal = [s for s in result.skipped if s.internal]
    assert not internal, internal
    output = result.text if result.text is not None else source
    compile(output, path.name, "exec")
    written, kept = Counter(comments(source)), Counter(comments(output))
    changed = {c: (n, kept[c]) for c, n in written.items() if kept[c] != n}
    assert not changed, f"comments lost or repeated (in input, in output): {changed}"
    again = vaccinate_source(path.name, source.encode(), options)
    assert again.text == result.text, "second run differs"
    if request.config.getoption("--update-goldens"):
        head = path.read_text(encoding="utf-8").split(MARKER, 1)[0]  # keeps the header lines
        if not head.endswith("\n"):
            head += "\n"
        if result.text is None:
            path.write_text(head, encoding="utf-8")
        else:
            path.write_text(head + MARKER + result.text, encoding="utf-8")
        return
    if expected is None:
        assert result.text is None, f"expected no change, got:\n{result.text}"
    else:
        assert output == expected


def _black(text: str) -> str | None:
    import black

    try:
        return black.format_str(text, mode=black.Mode())
    except Exception:  # black cannot format it (a construct newer than its target)
        return None


BLACK_INPUTS = [p for p in CASES if "--no-format" not in p.read_text(encoding="utf-8").split("\n", 1)[0]]


@pytest.mark.parametrize("path", BLACK_INPUTS, ids=[str(p.relative_to(GOLDEN)) for p in BLACK_INPUTS])
def test_black_formatted_input_gives_black_formatted_output(path: Path) -> None:
    """daifu runs black only where the transform wrote a line too long (and on script code):
    its templates are black's style and the user's statements are kept as written. So an
    input that black leaves alone must give an output that black leaves alone."""
    options, source, _ = parse_case(path)
    if _black(source) != source:
        pytest.skip("the input is not black-formatted")
    result = vaccinate_source(path.name, source.encode(), options)
    if result.text is None:
        pytest.skip("nothing vaccinated")
    assert _black(result.text) == result.text
