"""Lines of generated code that can be indented without touching string contents.

User statements are copied as text; when a statement moves into a cell its lines get a new
indentation, except lines that continue a multi-line string (their leading whitespace is part
of the string). :class:`Code` carries that "protected" flag per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Union

from daifu_cli.source import Pos, SourceFile


@dataclass
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
        for text, protected in other.lines:
            if protected or not text:
                self.lines.append((text, protected))
            else:
                self.lines.append((indent + text, False))
        return self

    def indented(self, indent: str) -> Code:
        return Code().extend(self, indent)

    def __iter__(self) -> Iterator[tuple[str, bool]]:
        return iter(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def text(self) -> str:
        return "\n".join(text for text, _ in self.lines)


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
    base = len(base_indent.expandtabs(8))
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
    body = text.lstrip(" \t")
    indent = text[: len(text) - len(body)].expandtabs(8)
    return " " * max(len(indent) - width, 0) + body
