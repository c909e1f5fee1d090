"""Property test: for any valid Python file, the transpiler either vaccinates functions (and
the output compiles and round-trips through the runtime's reader: the pipeline's verify pass)
or reports them as skipped; it never fails with an internal error, and never raises."""

from __future__ import annotations

import os

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daifu_cli.passes.select import Selection
from daifu_cli.pipeline import Options, vaccinate_source

ALL = Options(Selection(policy="all"), format=False)
#: Examples per property. hypothesmith's ``from_node`` spends about a second of CPU generating
#: each module here (the transpiler a few ms: 300 examples were 4 of CI's 13 minutes), so CI runs
#: a share of what a longer search runs: ``DAIFU_FUZZ_SCALE=10`` for ten times as many.
SCALE = float(os.environ.get("DAIFU_FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    return max(1, int(count * SCALE))

FORMATTED = Options(Selection(policy="all"), format=True)


def check(source: str, options: Options) -> None:
    result = vaccinate_source("fuzz.py", source.encode("utf-8"), options)
    internal = [s for s in result.skipped if s.internal and not s.reason.startswith("left unformatted")]
    assert not internal, (internal, source)
    if result.text is not None:
        compile(result.text, "fuzz.py", "exec")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_modules_never_break_the_transpiler(source: str) -> None:
    check(source, ALL)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_grammar_fuzz_never_breaks_the_transpiler(source: str) -> None:
    try:
        compile(source, "fuzz.py", "exec")
    except (SyntaxError, ValueError):
        return  # the grammar strategy can produce code the compiler rejects
    check(source, ALL)


BODY = st.sampled_from(
    [
        "x = i",
        "total += i",
        "if i % 2:\n    continue",
        "if i > 5:\n    break",
        "with open(__file__):\n    y = i",
        "try:\n    z = 1 / i\nexcept ZeroDivisionError:\n    z = 0\nfinally:\n    w = 1",
        "for j in range(2):\n    total += j",
        "while total > 100:\n    total -= 50",
        "return total",
        "del x",
        "x = [k for k in range(i)]",
        "assert i >= 0, i",
    ]
)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(BODY, min_size=1, max_size=6), st.lists(BODY, min_size=0, max_size=3))
def test_random_loop_bodies_vaccinate_and_run_the_same(body: list[str], tail: list[str]) -> None:
    import textwrap

    def indent(lines: list[str], width: int) -> str:
        return "\n".join(textwrap.indent(line, " " * width) for line in lines)

    source = (
        "def f(n):\n    total = 0\n    x = 0\n    for i in range(n):\n"
        + indent(body, 8)
        + ("\n" + indent(tail, 4) if tail else "")
        + "\n    return total\n"
    )
    try:
        compile(source, "gen.py", "exec")
    except SyntaxError:
        return
    result = vaccinate_source("gen.py", source.encode(), FORMATTED)
    assert not [s for s in result.skipped if s.internal], (result.skipped, source)
    assert result.text is not None

    def outcome(text: str) -> object:
        namespace: dict = {}
        exec(compile(text, "gen.py", "exec"), namespace)
        try:
            return ("ok", namespace["f"](8))
        except BaseException as exc:
            return ("raised", type(exc).__name__, str(exc))

    import sys

    import daifu_cli.runtime

    sys.modules.setdefault("_daifu_shim", daifu_cli.runtime)  # what an output ships as a file

    assert outcome(result.text) == outcome(source), source
