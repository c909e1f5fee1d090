"""The verify pass's last line of defence: when the output does not compile, only the function
the compiler points at is left as it was; the others in the file stay vaccinated."""

from __future__ import annotations

import pytest

from daifu_cli import pipeline
from daifu_cli.passes.select import Selection
from daifu_cli.pipeline import Options, vaccinate_source

SOURCE = '''\
def first(xs):
    for x in xs:
        print(x)


def broken(xs):
    for x in xs:
        print(x)


def last(xs):
    for x in xs:
        print(x)
'''


def test_a_compile_error_leaves_only_its_function_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipeline._final_text

    def with_a_defect(target, *args, **kwargs):  # type: ignore[no-untyped-def]
        lines = real(target, *args, **kwargs)
        if target.qualname == "broken":  # an emitter bug, as the compiler would see it
            lines.insert(1, "    nonlocal nowhere")
        return lines

    monkeypatch.setattr(pipeline, "_final_text", with_a_defect)
    result = vaccinate_source("m.py", SOURCE.encode(), Options(Selection(policy="all")))
    assert result.vaccinated == ["first", "last"]
    [skip] = result.skipped
    assert (skip.qualname, skip.line, skip.internal) == ("broken", 6, True)
    assert skip.reason.startswith(
        "internal error: broken: output does not compile: no binding for nonlocal 'nowhere' found"
    )
    assert result.text is not None and "def broken(xs):\n    for x in xs:\n        print(x)" in result.text
