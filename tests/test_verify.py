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


# -- the file's own properties: what Python reads from its first two lines or bytes ----------

_BODY = (
    "def f(xs):\n"
    "    for x in xs:\n"
    "        print(x, 'caf\xe9', '\xc3\xa9')  # \xe9t\xe9\n"
    "\n"
    "\n"
    "for y in [1]:\n"
    "    f([y])\n"
)
_COOKIE = "# -*- coding: latin-1 -*-\n"
#: Latin-1 files whose properties live in their first lines; '\xc3\xa9' in latin-1 is also
#: valid UTF-8, so a lost cookie can leave a file that compiles but reads other strings.
PROLOGUES = {
    "cookie_line_1": _COOKIE,
    "cookie_line_1_docstring": _COOKIE + '"""Doc \xe9."""\n',
    "comment_then_cookie": "# a comment\n" + _COOKIE,
    "blank_then_cookie": "\n" + _COOKIE,
    "shebang_then_cookie": "#!/usr/bin/env python3\n" + _COOKIE,
    "shebang_cookie_future": "#!/usr/bin/env python3\n" + _COOKIE + "from __future__ import annotations\n",
    "vim_cookie": "# vim: set fileencoding=latin-1 :\n",
}


def _variants() -> list[object]:
    out = []
    for name, head in PROLOGUES.items():
        data = (head + _BODY).encode("latin-1")
        out.append(pytest.param(data, id=name))
        out.append(pytest.param(data.replace(b"\n", b"\r\n"), id=f"{name}-crlf"))
    utf8 = "\ufeff#!/usr/bin/env python3\n# coding: utf-8\n" + _BODY.replace("\xc3\xa9", "\u2713")
    out.append(pytest.param(utf8.encode("utf-8"), id="bom_shebang_cookie"))
    out.append(pytest.param(("\ufeff" + _BODY).encode("utf-8").replace(b"\n", b"\r\n"), id="bom-crlf"))
    return out


@pytest.mark.parametrize("data", _variants())
def test_the_output_keeps_what_python_reads_from_the_first_lines(data: bytes) -> None:
    import io
    import tokenize

    result = vaccinate_source("m.py", data, Options(Selection(policy="all")))
    assert result.error is None and not result.skipped, (result.error, result.skipped)
    out = result.data
    assert out is not None and result.vaccinated == ["f", "<script>"]
    detect = lambda b: tokenize.detect_encoding(io.BytesIO(b).readline)[0]  # noqa: E731
    assert detect(out) == detect(data)
    assert out.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    crlf = b"\r\n" in data
    assert (b"\r\n" in out) == crlf and (out.replace(b"\r\n", b"").count(b"\n") == 0) == crlf
    head = data.splitlines(keepends=True)
    kept = sum(1 for line in head[:2] if line.lstrip(b"\xef\xbb\xbf").startswith(b"#"))
    assert out.splitlines(keepends=True)[:kept] == head[:kept]  # shebang and cookie in place
    # The non-ASCII user text is the same bytes, and the file compiles from its bytes.
    for chunk in (b"'caf\xe9'", b"'\xc3\xa9'", b"# \xe9t\xe9", "'\u2713'".encode()):
        assert out.count(chunk) == data.count(chunk)
    compile(out, "m.py", "exec")


def test_verify_compiles_the_bytes_as_read_from_disk() -> None:
    from daifu_cli.passes import verify

    text = "# daifu banner\n# -*- coding: latin-1 -*-\nx = '\xc3\xa9'\n"
    verify.compile_check(text.encode("latin-1"), "m.py", text)  # cookie on line 2: fine
    pushed = "# one\n" + text
    with pytest.raises(verify.VerifyError, match="reads back differently"):
        verify.compile_check(pushed.encode("latin-1"), "m.py", pushed)  # read as UTF-8
    broken = "# one\n# two\n# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    with pytest.raises(verify.VerifyError, match="does not compile"):
        verify.compile_check(broken.encode("latin-1"), "m.py", broken)


def test_a_header_pushing_the_cookie_is_caught_and_the_file_left_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the assembler ever put a line above the coding declaration again, verify (which
    compiles the output bytes) leaves the file as it was and reports it."""
    monkeypatch.setattr(pipeline.SourceFile, "prologue", property(lambda self: 0))
    data = (_COOKIE + _BODY).encode("latin-1")
    result = vaccinate_source("m.py", data, Options(Selection(policy="all")))
    assert result.text is None and result.data is None
    assert result.skipped and all(s.internal for s in result.skipped)
    assert "reads back differently" in result.skipped[0].reason or "compile" in result.skipped[0].reason


def test_generated_text_the_encoding_cannot_hold_is_caught() -> None:
    data = ("# coding: ascii\n" + _BODY.replace("\xe9", "e").replace("\xc3\xa9", "x")).encode("ascii")
    result = vaccinate_source("caf\xe9.py", data, Options(Selection(policy="all")))  # named in comments
    assert result.text is None
    assert result.skipped and all(s.internal for s in result.skipped)
    assert "encoding" in result.skipped[0].reason


def test_a_lost_comment_leaves_its_function_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify counts the input's comments in the output: an emitter that drops one (as the
    one after an ``if``/``elif`` chain once was) leaves only that function as it was."""
    real = pipeline._final_text

    def dropping(target, *args, **kwargs):  # type: ignore[no-untyped-def]
        lines = real(target, *args, **kwargs)
        return [line for line in lines if "# note" not in line] if target.qualname == "broken" else lines

    monkeypatch.setattr(pipeline, "_final_text", dropping)
    source = SOURCE.replace("def broken(xs):\n", "def broken(xs):\n    # note\n")
    result = vaccinate_source("m.py", source.encode(), Options(Selection(policy="all")))
    assert result.vaccinated == ["first", "last"]
    [skip] = result.skipped
    assert skip.qualname == "broken" and skip.internal and "# note" in skip.reason
    assert result.text is not None and "    # note\n" in result.text


def test_a_file_mixing_line_endings_keeps_each_copied_lines_own() -> None:
    data = (
        b"import os\n\r\ndef g():\r\n    return 1\n\n\ndef f(xs):\r\n    for x in xs:\n"
        b"        print(x)\r\n\r\n\r\nX = 1\r\nY = 2\n"
    )
    result = vaccinate_source("m.py", data, Options(Selection(policy="marked", select=("m.py::f",))))
    assert result.vaccinated == ["f"] and result.data is not None
    out = result.data
    for line in (b"import os\n\r\n", b"def g():\r\n    return 1\n\n\n", b"X = 1\r\nY = 2\n"):
        assert line in out  # copied lines: their own endings
    assert b"    # daifu: crash barrier for f() from m.py:7\n" in out  # the first line's
    compile(out, "m.py", "exec")
