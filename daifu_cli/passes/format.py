"""Pass 6, format: black-format the code the transform produced, and nothing else.

Input: the code of one vaccinated function (or script function) at column 0, with all of the
user's text held out as placeholders (:class:`daifu_cli.code.Kept`). The templates
are written in black's style, so black only has work when a generated line runs past the line
length (deep in cells); only then is black run, on that code alone (:func:`needs_black`), and
around nested defs and on script code for its blank lines (see ``pipeline._formatted``). A line
that wraps the user's text in generated text (a hoisted loop iterable, a ``return`` leaving a
cell) is held whole and takes black's split shape where it is too long (``Kept.wrapped``), so
black never splits the user's expression. Black costs about 75 us
per line here, which made it most of the transpiler's time when it ran on everything.
Unchanged functions keep their bytes and a file with nothing selected is copied as is.

Black rewrites docstrings (indentation, trailing spaces), which would change ``__doc__``; the
docstrings are swapped for placeholders while black runs and put back verbatim afterwards.
This is the only module that imports black, which has no public API: the version is pinned.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from daifu_cli.code import Code

_PLACEHOLDER = "__daifu_docstring_{}__"
_PLACEHOLDER_RE = re.compile(r"""(?:[rRuUbB]{0,2})("{3}|'{3}|"|')__daifu_docstring_(\d+)__\1""")


class FormatError(Exception):
    """black could not format the code."""


def needs_black(code: Code, line_length: int) -> bool:
    """Whether a line of *code* (comments aside, which black leaves long) is too long."""
    return any(
        not protected and len(text.expandtabs()) > line_length and not text.lstrip().startswith("#")
        for text, protected in code.lines
    )


def black_format(text: str, line_length: int, target_versions: frozenset[object] | None = None) -> str:
    """*text* formatted by black; for the Python versions black infers from it, or for
    *target_versions* (what :func:`target_versions` found for a larger text it is part of)."""
    import black  # imported here: the runtime and --no-format never need it

    protected, originals = _protect_docstrings(text)
    try:
        mode = black.Mode(line_length=line_length, target_versions=set(target_versions or ()))  # type: ignore[arg-type]
        formatted = black.format_str(protected, mode=mode)
    except Exception as exc:  # black raises many types; any of them means "leave unformatted"
        raise FormatError(f"black: {exc}") from None
    return _restore(formatted, originals).rstrip("\n")


def target_versions(text: str) -> frozenset[object]:
    """The Python versions black formats *text* for (inferred from the syntax it uses)."""
    import black
    from black.parsing import lib2to3_parse

    try:
        node = lib2to3_parse(_protect_docstrings(text)[0].lstrip())
    except Exception as exc:  # black's parse errors: "leave unformatted", as black_format says
        raise FormatError(f"black: {exc}") from None
    return frozenset(black.detect_target_versions(node, future_imports=black.get_future_imports(node)))


def _protect_docstrings(text: str) -> tuple[str, list[str]]:
    tree = ast.parse(text)
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    spans.append(body[0].value)
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode("utf-8")) + 1)
    encoded = text.encode("utf-8")
    originals: list[str] = []
    pieces: list[bytes] = []
    cursor = 0
    for node in sorted(spans, key=lambda n: (n.lineno, n.col_offset)):
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        pieces.append(encoded[cursor:start])
        originals.append(encoded[start:end].decode("utf-8"))
        pieces.append(f'"{_PLACEHOLDER.format(len(originals) - 1)}"'.encode())
        cursor = end
    pieces.append(encoded[cursor:])
    return b"".join(pieces).decode("utf-8"), originals


def _restore(text: str, originals: list[str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: originals[int(m.group(2))], text)


def code_from_text(text: str) -> Code:
    """:class:`Code` for formatted *text*, with the lines inside multi-line strings protected."""
    interior: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if (tok.type == tokenize.STRING and tok.end[0] > tok.start[0]) or (tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1) and tok.end[0] > tok.start[0]):
                interior.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return Code([(line, number in interior) for number, line in enumerate(text.split("\n"), 1)])
