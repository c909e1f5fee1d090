"""A Python source file as the transpiler sees it: text, tree, tokens and comment ownership.

User statements reach the output as their original text (comments included), so the emitter
needs exact spans: where a statement starts (its first decorator for a decorated ``def``), where
the header of a compound statement ends (its ``:``), which comment trails a line, which lines
lie inside a multi-line string and must never be re-indented. This module answers those
questions from ``tokenize``; positions are ``(line, column)`` with 1-based lines and columns
counted in characters (``ast`` counts UTF-8 bytes; :meth:`SourceFile.pos` converts).
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

Pos = tuple[int, int]


class SourceError(Exception):
    """The file cannot be read as Python: bad encoding or a syntax error."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


#: A token as :mod:`tokenize` gives it (``type``, ``string``, ``start``, ``end``, ``line``):
#: copying each into a class of our own cost a third as much again as tokenizing.
Token = tokenize.TokenInfo


@dataclass
class SourceFile:
    """One decoded source file with its tree and tokens."""

    path: str
    text: str
    encoding: str = "utf-8"
    newline: str = "\n"
    #: Each line's ending as written (``""`` for the last), when the file mixes them.
    endings: list[str] | None = None
    tree: ast.Module = field(init=False)
    _named: dict[tuple[tuple[str, ...], bool], bool] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            self.tree = ast.parse(self.text, filename=self.path, type_comments=False)
        except SyntaxError as exc:  # includes IndentationError and TabError
            raise SourceError(f"syntax error: {exc.msg}", exc.lineno or 1) from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise SourceError(f"cannot parse: {exc}") from None

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        """Decode *data* the way the interpreter would (PEP 263 cookie, BOM)."""
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot decode: {exc}") from None
        if text.startswith("\ufeff"):
            text = text[1:]
        newline = _first_newline(text)
        endings = None
        if len({m.group() for m in _NEWLINE.finditer(text)}) > 1:
            endings = [m.group() for m in _NEWLINE.finditer(text)] + [""]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return cls(path, text, encoding, newline, endings)

    def encode(self, text: str, runs: Sequence[tuple[int, int, int]] = ()) -> bytes:
        """Output *text* as the file's bytes: its encoding (a BOM if it had one: ``utf-8-sig``)
        and line endings: a line copied unchanged (*runs*: ``(output line, input line,
        length)``) keeps its own, any other line takes the first line's. Raises
        :class:`UnicodeEncodeError` if generated text cannot be written in the encoding."""
        if self.endings is not None and runs:
            lines = text.split("\n")
            ends = [self.newline] * (len(lines) - 1) + [""]
            for first, original, length in runs:
                for offset in range(length):
                    at, ending = first + offset - 1, self.endings[original + offset - 1]
                    if at < len(lines) - 1 and ending:
                        ends[at] = ending
            text = "".join(line + end for line, end in zip(lines, ends, strict=True))
        elif self.newline != "\n":
            text = text.replace("\n", self.newline)
        return text.encode(self.encoding)

    @cached_property
    def prologue(self) -> int:
        """How many lines at the top Python reads the file's properties from (a shebang on
        line 1, a coding declaration on line 1, or on line 2 below a comment or blank line).
        Nothing may be inserted above them: a coding declaration pushed to line 3 is ignored,
        and a shebang only works on line 1."""
        lines = self.lines
        if lines and is_coding_line(lines[0]):
            return 1
        if len(lines) > 1 and _BLANK_OR_COMMENT.match(lines[0]) and is_coding_line(lines[1]):
            return 2
        return 1 if lines and lines[0].startswith("#!") else 0

    def may_name(self, words: tuple[str, ...], *, prefix: bool = False) -> bool:
        """Whether one of *words* is written in the text as a name (or, with *prefix*, as the
        start of one), not as an attribute (``model.eval``); always where the text is not ASCII
        (Python reads identifiers in NFKC form, where other characters can spell a name).
        Remembered per question: a pass can skip looking in the tree for names the text does
        not hold. (A regular expression took 10 ms on a 5,000-line file: ``str.find`` in C
        finds the few places to check.)"""
        key = (words, prefix)
        found = self._named.get(key)
        if found is None:
            found = self._named[key] = not self.text.isascii() or any(self._names(w, prefix) for w in words)
        return found

    def _names(self, word: str, prefix: bool) -> bool:
        text = self.text
        at = text.find(word)
        while at >= 0:
            before, after = text[at - 1 : at] if at else "", text[at + len(word) : at + len(word) + 1]
            if not (before == "." or _word_char(before)) and (prefix or not _word_char(after)):
                return True
            at = text.find(word, at + 1)
        return False

    # -- lines and positions -------------------------------------------------------------

    @cached_property
    def lines(self) -> list[str]:
        """Lines without their ending; ``lines[0]`` is line 1."""
        return self.text.split("\n")

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def pos(self, line: int, byte_col: int) -> Pos:
        """Character position of an ``ast`` (line, UTF-8 byte column) pair."""
        text = self.line(line)
        if text.isascii():
            return (line, byte_col)
        return (line, len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace")))

    def start(self, node: ast.AST) -> Pos:
        return self.pos(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> Pos:
        return self.pos(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def segment(self, start: Pos, end: Pos) -> str:
        """Text between two positions."""
        (l1, c1), (l2, c2) = start, end
        if l1 == l2:
            return self.line(l1)[c1:c2]
        parts = [self.line(l1)[c1:]]
        parts.extend(self.line(n) for n in range(l1 + 1, l2))
        parts.append(self.line(l2)[:c2])
        return "\n".join(parts)

    def indent_of(self, line: int) -> str:
        text = self.line(line)
        return text[: len(text) - len(text.lstrip(" \t\f"))]

    # -- tokens -------------------------------------------------------------------------

    @cached_property
    def tokens(self) -> list[Token]:
        out: list[Token] = []
        try:
            out.extend(tokenize.generate_tokens(io.StringIO(self.text).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # ast accepted the file; a tokenizer quirk only costs comment placement
        return out

    @cached_property
    def _token_starts(self) -> list[Pos]:
        return [t.start for t in self.tokens]

    def token_index_at(self, pos: Pos) -> int:
        """Index of the first token starting at or after *pos*."""
        return bisect.bisect_left(self._token_starts, pos)

    def _tokens_from(self, pos: Pos) -> Iterator[Token]:
        # By index: a slice copies the rest of the file's tokens, and islice steps through
        # every token before *pos*; either made a lookup cost the position, and emitting a
        # file of many functions quadratic.
        tokens = self.tokens
        for index in range(self.token_index_at(pos), len(tokens)):
            yield tokens[index]

    def next_token(self, pos: Pos, string: str, *, kind: int | None = None) -> Token:
        """The first token at or after *pos* spelled *string* (outside brackets opened later)."""
        depth = 0
        for tok in self._tokens_from(pos):
            if depth <= 0 and tok.string == string and (kind is None or tok.type == kind):
                return tok
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
        raise LookupError(f"{string!r} not found after {pos} in {self.path}")

    def closing_bracket(self, pos: Pos) -> Token:
        """The bracket that closes the first opening bracket at or after *pos*."""
        depth = 0
        for tok in self._tokens_from(pos):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if depth == 0:
                    return tok
        raise LookupError(f"no closing bracket after {pos} in {self.path}")

    def previous_token(self, pos: Pos, string: str) -> Token:
        """The last token before *pos* spelled *string*."""
        tokens = self.tokens
        for index in range(self.token_index_at(pos) - 1, -1, -1):
            if tokens[index].string == string:
                return tokens[index]
        raise LookupError(f"{string!r} not found before {pos} in {self.path}")

    @cached_property
    def comments(self) -> dict[int, Token]:
        """The comment token of each line that has one."""
        return {t.start[0]: t for t in self.tokens if t.type == tokenize.COMMENT}

    def trailing_comment(self, end: Pos) -> str | None:
        """The comment after *end* on the same line, if nothing but whitespace separates them."""
        comment = self.comments.get(end[0])
        if comment is None or comment.start[1] < end[1]:
            return None
        between = self.line(end[0])[end[1] : comment.start[1]]
        return comment.string if between.strip() == "" else None

    def is_comment_line(self, line: int) -> bool:
        return self.line(line).lstrip().startswith("#")

    def is_blank_line(self, line: int) -> bool:
        return self.line(line).strip() == ""

    @cached_property
    def string_interior_lines(self) -> frozenset[int]:
        """Lines that continue a multi-line string; re-indenting them would change the string."""
        inside: set[int] = set()
        for tok in self.tokens:
            if tok.type in _STRING_TOKENS and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
        return frozenset(inside)

    # -- statements ----------------------------------------------------------------------

    def stmt_start(self, node: ast.stmt) -> Pos:
        """Where *node*'s text starts: at the ``@`` of its first decorator, if any."""
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            return self.previous_token(self.start(decorators[0]), "@").start
        return self.start(node)

    def header_colon(self, after: Pos) -> Token:
        """The ``:`` that ends a compound statement's header, searching from *after*."""
        return self.next_token(after, ":", kind=tokenize.OP)

    def keyword_before(self, node: ast.AST, keyword: str) -> Token:
        """The *keyword* token (``else``, ``finally``, ``case``) that introduces *node*'s block."""
        return self.previous_token(self.start(node), keyword)


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLANK_OR_COMMENT = re.compile(r"^[ \t\f]*(?:#|$)")


def is_coding_line(line: str) -> bool:
    """Whether *line* is a PEP 263 coding declaration (on line 1 or 2, it sets the encoding)."""
    return _CODING.match(line) is not None


def _word_char(char: str) -> bool:
    """Whether *char* (one ASCII character, or none) can be part of a name."""
    return char.isalnum() or char == "_"


def _first_newline(text: str) -> str:
    """The line ending of the first line (``\\n`` for a file of one line)."""
    for index, char in enumerate(text):
        if char == "\n":
            return "\n"
        if char == "\r":
            return "\r\n" if text[index + 1 : index + 2] == "\n" else "\r"
    return "\n"


_STRING_TOKENS = {tokenize.STRING}
for _name in ("FSTRING_MIDDLE", "FSTRING_START", "FSTRING_END", "TSTRING_MIDDLE"):
    if hasattr(tokenize, _name):
        _STRING_TOKENS.add(getattr(tokenize, _name))
