"""Lines of generated code that can be indented without touching string contents.

User statements are copied as text; when a statement moves into a cell its lines get a new
indentation, except lines that continue a multi-line string (their leading whitespace is part
of the string). :class:`Code` carries that "protected" flag per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Union

from daifu_cli.source import Pos, SourceFile


@dataclass(slots=True)
class Code:
    """A block of lines, each ``(text, protected)``; text never ends with a newline."""

    lines: list[tuple[str, bool]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Code:
        """Generated text (nothing protected)."""
        return cls([(line, False) for line in text.split("\n")])

    def add(self, text: str) -> Code:
        self.lines.extend((line, False) for line in text.split("\n"))
        return self

    def extend(self, other: Code, indent: str = "") -> Code:
        if not indent:  # every line as it is (the tuples are immutable: shared)
            self.lines.extend(other.lines)
        else:  # nested blocks are indented once per level: the emitter's most frequent copy
            self.lines.extend(
                [line if line[1] or not line[0] else (indent + line[0], False) for line in other.lines]
            )
        return self

    def indented(self, indent: str) -> Code:
        return Code().extend(self, indent)

    def __iter__(self) -> Iterator[tuple[str, bool]]:
        return iter(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def text(self) -> str:
        return "\n".join([text for text, _ in self.lines])


#: A piece of a statement's new text: a source span, generated text, or generated code.
Piece = Union[tuple[Pos, Pos], str, Code]


def from_pieces(source: SourceFile, pieces: Iterable[Piece], base_indent: str) -> Code:
    """Assemble *pieces* into :class:`Code`, stripping *base_indent* from user lines.

    A line that starts inside a multi-line string keeps its text exactly; any other line of
    user text loses the statement's original indentation (or all leading whitespace, which is
    insignificant inside brackets and after a backslash).
    """
    out: list[tuple[str, bool]] = [("", False)]
    for piece in pieces:
        if isinstance(piece, Code):
            _append_code(out, piece)
        elif isinstance(piece, str):
            _append_text(out, piece)
        else:
            _append_span(out, source, piece, base_indent)
    return Code(out)


def _append_text(out: list[tuple[str, bool]], text: str) -> None:
    first, *rest = text.split("\n")
    last_text, last_protected = out[-1]
    out[-1] = (last_text + first, last_protected)
    out.extend((line, False) for line in rest)


def _append_code(out: list[tuple[str, bool]], code: Code) -> None:
    if not code.lines:
        return
    (first, _), *rest = code.lines
    last_text, last_protected = out[-1]
    out[-1] = (last_text + first, last_protected)
    out.extend(rest)


def _append_span(
    out: list[tuple[str, bool]], source: SourceFile, span: tuple[Pos, Pos], base_indent: str
) -> None:
    (l1, c1), (l2, c2) = span
    interior = source.string_interior_lines
    base = columns(base_indent)
    for number in range(l1, l2 + 1):
        line = source.line(number)
        text = line[c1 if number == l1 else 0 : c2 if number == l2 else len(line)]
        if number == l1:
            last_text, last_protected = out[-1]
            out[-1] = (last_text + text, last_protected)
        elif number in interior:
            out.append((text, True))
        else:
            out.append((_dedent(text, base), False))


def _dedent(text: str, width: int) -> str:
    """*text* less *width* columns of indentation, tabs counted as Python counts them (to the
    next multiple of 8), so tab-indented code re-indents consistently with spaces."""
    body = text.lstrip(" \t\f")
    return " " * max(columns(text[: len(text) - len(body)]) - width, 0) + body


def columns(indent: str) -> int:
    """The column an indentation reaches, counted as Python's tokenizer does: tabs to the
    next multiple of 8, and a form feed starts again from 0."""
    return len(indent[indent.rfind("\f") + 1 :].expandtabs(8))


class Kept:
    """The user's text, held out of the code that black formats.

    The emitter puts a placeholder wherever user text goes: a line for a statement, a stub for
    a ``def``/``class`` (``def __daifu_keep_3__(): ...``, so black spaces it as the definition
    it stands for), a header of the same keyword for a compound statement's header
    (``if __daifu_keep_4__:``, ``else:  # __daifu_keep_5__``: black formats the generated
    code around and inside the block as it would the real one), a comment for a comment line.
    Black formats the code the transform wrote around them; :meth:`restore` replaces each line
    holding a placeholder with the text it holds, re-indented to where the placeholder ended
    up. So the user's lines reach the output as written, only re-indented, and black only
    spends time on the transform's own lines.
    """

    PREFIX = "__daifu_keep_"
    _NAME = re.compile(r"__daifu_keep_\d+__")

    def __init__(self) -> None:
        self.held: dict[str, Code] = {}
        #: A second shape for a held line that has generated text around the user's (a hoisted
        #: iterable), used where the first runs past the line length.
        self.wrapped: dict[str, Code] = {}

    def hold(self, code: Code, *, scope: bool = False, form: str = "{}", wrapped: Code | None = None) -> Code:
        """A placeholder for *code*: *form* with ``{}`` for its name (the line of a statement by
        default), or a stub for a ``def``/``class`` (*scope*)."""
        name = f"{self.PREFIX}{len(self.held)}__"
        self.held[name] = code
        if wrapped is not None:
            self.wrapped[name] = wrapped
        return Code.of(f"def {name}(): ..." if scope else form.format(name))

    def restore(self, code: Code, width: int = 1 << 30) -> Code:
        """*code* with every line holding a placeholder replaced by the text it holds; *width*
        is the room the code at column 0 has (for :attr:`wrapped`)."""
        if not self.held:
            return code
        out = Code()
        lines, prefix = out.lines, self.PREFIX
        for line in code.lines:
            text, protected = line
            match = None if protected or prefix not in text else self._NAME.search(text)
            if match is not None and match.group(0) in self.held:
                body = text.lstrip()
                indent = text[: len(text) - len(body)]
                room = width - columns(indent)
                inner = self._shape(match.group(0), room)
                if any(prefix in text and not protected for text, protected in inner.lines):
                    inner = self.restore(inner, room)  # it holds placeholders of its own
                out.extend(inner, indent)
            else:
                lines.append(line)
        return out

    def _shape(self, name: str, room: int) -> Code:
        code = self.held[name]
        if name in self.wrapped and any(len(t.expandtabs()) > room for t, p in code.lines if not p):
            return self.wrapped[name]
        return code


def holds_scope(code: Code) -> bool:
    """Whether *code* has a held ``def``/``class`` (black decides the blank lines around it)."""
    return any(
        not protected and text.lstrip().startswith(f"def {Kept.PREFIX}") and text.endswith("(): ...")
        for text, protected in code.lines
    )
