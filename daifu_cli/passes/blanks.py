"""Black's blank lines, without black's parse, for generated code black would change no other way.

Black runs on a vaccinated function's code when it holds nested defs or classes, and on every
script function, only for its blank lines (``pipeline._formatted``): daifu's templates are
written in black's style and the user's text is held out as placeholders, so black changes
nothing else there (measured on the shapes of ``bench/shapes.py``: only blank lines differ). Yet
black parses and formats every line, at about 0.6 ms a line: most of the transpiler's time on
deeply nested code and long script-level code.

Black decides blank lines line by line, in its ``EmptyLineTracker``, from what each logical line
is (a decorator, a ``def``, a ``class``, a comment, a block opener, a stub ``...``), its depth, and
the blank lines written before it. :func:`black_blank_lines` builds those lines directly, with
just the tokens the tracker reads, and runs black's own tracker over them, so the rules are
black's (of the pinned version), not a copy. It answers ``None``, and black runs as before,
wherever black could change more than blank lines: a line too long, brackets or strings spanning
lines, single quotes (black normalizes them), ``;``, a string or an import opening a line (the
tracker reads those through the parse tree), tabs, odd indentation, ``fmt:`` directives.
``tests/test_blanks.py`` compares the two on every program, golden case and shape we have.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_QUOTE_OR_COMMENT = re.compile(r"""['";#\\]""")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_STUB = re.compile(r":\s*\.\.\.$")


class _Unsure(Exception):
    """Black might change more than blank lines here."""


def black_blank_lines(text: str, line_length: int) -> str | None:
    """What black's ``format_str`` makes of *text* (without its final newline), where it can
    only change blank lines; ``None`` where that cannot be told without black."""
    if "fmt:" in text or "yapf:" in text or "\t" in text or "\\\n" in text:
        return None
    from black.lines import EmptyLineTracker, Line
    from black.mode import Mode

    mode = Mode(line_length=line_length)
    tracker = EmptyLineTracker(mode=mode)
    # Black's blocks: a later ``def`` may add blank lines before the comment block above it.
    blocks: list[tuple[Any, str | list[str]]] = []
    # One black Line for each kind of line met (see _Read.kind): making a Line cost more than
    # the tracker's decision, and most lines are of the templates' few kinds. The tracker reads
    # a line's depth and leaves and changes only the first leaf's prefix, which is set here
    # before each line (see _Tokens.leaf).
    made = _made.setdefault(line_length, {})
    if len(made) > _MADE_MAX:
        made.clear()
    try:
        lines = _read(text)
        _check_comment_depths(lines)
        for line in lines:
            text = line.text
            # the line's text, or (rarely) the lines black splits it into
            content: str | list[str] = (
                text if len(text) <= line_length or _unsplittable(text) else _split_call(text, line_length)
            )
            black_line = made.get(line.kind)
            if black_line is None:
                black_line = made[line.kind] = Line(mode=mode, depth=line.depth, leaves=_leaves(line))
            black_line.leaves[0].prefix = "\n" * line.blank
            blocks.append((tracker.maybe_empty_lines(black_line), content))
    except _Unsure:
        return None
    out: list[str] = []
    last = len(blocks) - 1
    for number, (block, content) in enumerate(blocks):
        if block.before:
            out += [""] * block.before
        if type(content) is str:
            out.append(content)
        else:
            out += content
        if block.after and number < last:
            out += [""] * block.after
    return "\n".join(out)


#: line length -> a kind of line (_Read.kind) -> the black Line for it (see black_blank_lines).
_made: dict[int, dict[tuple[int, str | None], Any]] = {}
_MADE_MAX = 1 << 14


class _Read(NamedTuple):
    """A non-blank line: as written (trailing spaces dropped), its depth, its code without
    the comment (``None`` for a comment line), its kind, and the blank lines above it.

    Lines of one kind are alike to black's tracker: the same depth and code but for the names
    of Kept's placeholders (user text held out: the tracker tells names apart only from
    keywords), or comment lines at one depth (it reads a comment's text only for ``fmt:``
    directives, and text holding one never gets here)."""

    text: str
    depth: int
    code: str | None
    kind: tuple[int, str | None]
    blank: int


#: A line as written -> what :func:`_read` makes of it, for a line after no blank line.
_seen: dict[str, _Read] = {}
_PLACEHOLDER = re.compile(r"__daifu_keep_\d+__")


def _read(text: str) -> list[_Read]:
    """The non-blank lines of *text*, each read once; raises :class:`_Unsure` for indentation
    not by fours and code black could change (see :func:`_code_part`)."""
    out: list[_Read] = []
    blank = 0
    seen = _seen  # most lines are the templates', repeated
    if len(seen) > _MADE_MAX:
        seen.clear()
    for raw in text.split("\n"):
        known = seen.get(raw)
        if known is None:
            line = raw.rstrip()
            if not line:
                blank += 1
                continue
            stripped = line.lstrip(" ")
            indent = len(line) - len(stripped)
            if indent % 4:
                raise _Unsure
            code = None if stripped.startswith("#") else _code_part(stripped)
            same = _PLACEHOLDER.sub("__daifu_keep__", code) if code is not None and "__daifu_keep_" in code else code
            known = seen[raw] = _Read(line, indent // 4, code, (indent // 4, same), 0)
        out.append(known._replace(blank=blank) if blank else known)  # (most lines follow no blank line)
        blank = 0
    return out


def _check_comment_depths(lines: list[_Read]) -> None:
    """Every comment line at a depth black keeps: the next statement's, or (closing a block)
    the depth of the block the statement before it is in. Black moves a comment at any other
    depth, which is more than blank lines."""
    previous = 0  # depth inside which the previous statement leaves the next line
    pending: list[int] = []
    for line in lines:
        if line.code is None:
            pending.append(line.depth)
            continue
        if line.depth > previous:  # deeper than a block opener asks for: black re-indents it
            raise _Unsure
        for comment in pending:
            if comment not in (line.depth, previous):
                raise _Unsure
        pending = []
        previous = line.depth + 1 if line.code.endswith(":") else line.depth
    if any(comment not in (0, previous) for comment in pending):
        raise _Unsure


def _unsplittable(line: str) -> bool:
    """A line black leaves long: a comment, or a ``def`` without parameters before a comment
    (the probe of a function's cells, deep in nested code)."""
    return bool(_BARE_DEF.match(line.lstrip(" ")))


_BARE_DEF = re.compile(r"^(#|def [A-Za-z_][A-Za-z_0-9]*\(\):  #)")


#: A generated assignment of a call (``_daifu_k = __daifu__.crash(_daifu_e)``), the only kind of
#: generated line that grows too long deep in cells, and with nothing in its arguments that
#: black would split otherwise.
_CALL = re.compile(
    r"^( *)([A-Za-z_][A-Za-z_0-9]* = [A-Za-z_][A-Za-z_0-9.]*)\(([A-Za-z_0-9., ]*)\)$"
)


def _split_call(line: str, line_length: int) -> list[str]:
    """Black's split of a too long ``name = f(args)``: the arguments on a line of their own
    (black's right-hand split), where that line fits."""
    match = _CALL.match(line)
    if match is None:
        raise _Unsure
    indent, head, arguments = match.groups()
    if len(indent) + 4 + len(arguments) > line_length or not arguments or arguments.endswith(","):
        raise _Unsure  # black would explode the arguments one per line (or keep the line)
    return [f"{indent}{head}(", f"{indent}    {arguments}", f"{indent})"]


class _Tokens:
    """black's token types and the leaves every line may share (the tracker reads the type and
    value of a line's last leaves and changes only the first one's prefix), loaded once."""

    def __init__(self) -> None:
        from black.nodes import STANDALONE_COMMENT
        from blib2to3.pgen2 import token
        from blib2to3.pytree import Leaf

        self._leaf, self.name, self.at, self.comment = Leaf, token.NAME, token.AT, STANDALONE_COMMENT
        self._made: dict[tuple[int, str], Any] = {}
        self.other = [Leaf(token.NAME, "x")]
        self.colon = [Leaf(token.COLON, ":")]
        self.stub = [*self.colon, Leaf(token.DOT, "."), Leaf(token.DOT, "."), Leaf(token.DOT, ".")]

    def leaf(self, kind: int, value: str, prefix: str = "") -> Any:
        """A leaf of *kind* and *value*, one object for each: making a leaf costs more than the
        tracker's whole decision. Sharing is safe: the tracker reads the type and value of
        earlier lines' leaves, which never change, and the prefix only of the line it is given
        (it empties that prefix once read), set here for each line."""
        made = self._made.get((kind, value))
        if made is None:
            made = self._made[(kind, value)] = self._leaf(kind, value)
        made.prefix = prefix
        return made


_tokens: _Tokens | None = None


def _leaves(line: _Read) -> list:  # type: ignore[type-arg]
    """The tokens of one line that black's tracker reads: the first (with the blank lines
    before it as its prefix) and, for a block opener or a stub, the last ones."""
    global _tokens
    if _tokens is None:
        _tokens = _Tokens()
    tokens = _tokens
    prefix = "\n" * line.blank
    code = line.code
    if code is None:
        return [tokens.leaf(tokens.comment, line.text.lstrip(" "), prefix=prefix)]
    if code.startswith("@"):
        return [tokens.leaf(tokens.at, "@", prefix=prefix), *tokens.other]
    word = _WORD.match(code)
    if (
        word is None
        or word.group() in ("import", "from")
        or code[word.end() :].startswith(("'", '"'))
    ):
        raise _Unsure  # a string, an import, a prefixed string: read through black's parse tree
    leaves = [tokens.leaf(tokens.name, word.group(), prefix=prefix)]
    if word.group() == "async":
        second = _WORD.match(code[word.end() :].lstrip())
        if second is not None:
            leaves.append(tokens.leaf(tokens.name, second.group()))
    if code.endswith(":"):
        return leaves + tokens.colon
    if code.endswith("...") and _STUB.search(code):
        return leaves + tokens.stub
    return leaves + tokens.other if len(leaves) == 1 else leaves


def _code_part(line: str) -> str:
    """*line* without its comment; raises :class:`_Unsure` where black could change the code
    (single quotes, ``;``, brackets open at the end of the line)."""
    if not _QUOTE_OR_COMMENT.search(line):  # most lines: only brackets to count
        if (
            line.count("(") != line.count(")")
            or line.count("[") != line.count("]")
            or line.count("{") != line.count("}")
        ):
            raise _Unsure
        return line
    depth = 0
    in_string = False
    for index, char in enumerate(line):
        if in_string:
            if char == "\\":
                raise _Unsure
            if char == '"':
                in_string = False
        elif char == '"':
            if line.startswith('"""', index):
                raise _Unsure
            in_string = True
        elif char in "';":
            raise _Unsure
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "#":
            if depth:
                raise _Unsure
            return line[:index].rstrip()
    if depth or in_string:
        raise _Unsure
    return line
