"""Map a position in the running code to the same position in the fixed code.

A fix may insert, change or delete statements anywhere. The statements around the crash are
aligned block by block (``difflib`` over canonical statement keys, headers only for compound
statements), and the crash position is carried across:

* every enclosing statement (the loop, ``with``, ``if`` the crash is inside) must still exist
  with the same kind; its header may change (a running loop keeps its iterator);
* in the innermost block, execution resumes after the last statement that already ran and
  still exists: statements the fix inserted right before the failing one run, statements it
  inserted among those that already ran do not, and a changed failing statement runs in its
  new form.

A fix may also move the running statements into a new enclosing statement (``try:`` around a
loop body, the most common fix for bad data) or take them out of one. The continuation then
*enters* the new statement and starts at the failing statement inside it (:mod:`.wrapping`
says which new statements can be entered, and how); a removed ``try`` or ``if`` around the
crash is simply left (its handlers or test no longer apply).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

from . import logical, normal, wrapping
from .wrapping import CannotMap


@dataclass(frozen=True)
class Position:
    """Where resumed code starts, in the logical view of the code that resumes."""

    #: Path of the block: ``(i0, name0, ..., ik, namek)``; ``()`` is the function body.
    block: tuple
    #: Statement to start at in that block (``len(block)``: at its end).
    index: int
    #: The statement at *index* is a loop to continue at its header, with its iterator.
    loop_next: bool = False
    #: Loop iterators renamed by the fix: (name in running code, name in new code).
    iterators: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    #: Owner paths (in the new view) of the statements the fix added around the crash: the
    #: continuation enters them (a new ``if`` evaluates its test) instead of being inside.
    entered: tuple[tuple, ...] = ()


def _keys(block: logical.Block) -> list[str]:
    return [normal.key(s.node if s.hoist is None else _user_for(s), in_cell=s.region is not None) for s in block]


def _user_for(stmt: logical.Stmt) -> ast.stmt:
    node = stmt.node
    assert isinstance(node, ast.For) and stmt.hoist is not None
    clone = ast.For(
        target=node.target, iter=stmt.hoist.value.args[0], body=[], orelse=[], type_comment=None  # type: ignore[attr-defined]
    )
    return ast.copy_location(clone, node)


def _opcodes(old: logical.Block, new: logical.Block) -> list[tuple[str, int, int, int, int]]:
    matcher = difflib.SequenceMatcher(None, _keys(old), _keys(new), autojunk=False)
    return [(str(tag), i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def counterpart(old: logical.Block, new: logical.Block, index: int) -> int | None:
    """The new index of statement *index* of *old*, if it survived (same kind of statement)."""
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if not i1 <= index < i2:
            continue
        if tag == "equal":
            return j1 + (index - i1)
        if tag == "replace":
            candidate = j1 + min(index - i1, j2 - j1 - 1)
            if type(new[candidate].node) is type(old[index].node):
                return candidate
            same_kind = [j for j in range(j1, j2) if type(new[j].node) is type(old[index].node)]
            return same_kind[0] if len(same_kind) == 1 else None
        return None
    return None


def resume_index(old: logical.Block, new: logical.Block, index: int) -> int:
    """Where to resume in *new* when statement *index* of *old* is the next one to run."""
    opcodes = _opcodes(old, new)
    for _position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "insert":
            if i1 == index:  # inserted right before the statement to run: they run too
                return j1
            continue
        if not i1 <= index < i2:
            continue
        if tag == "equal":
            return j1 + (index - i1)
        if tag == "replace":
            # The statement's new form, if it has one; else the first new statement that is
            # not the new form of one that already ran (matched by kind, in order). Counting
            # positions instead skipped a new statement that took the place of several.
            target = counterpart(old, new, index)
            if target is not None:
                return target
            j = j1
            for k in range(i1, index):
                if j < j2 and type(new[j].node) is type(old[k].node):
                    j += 1
            return j
        return j1  # deleted: resume where it was
    return len(new)  # resuming at the end of the block


def map_crash(
    old_view: logical.Function,
    new_view: logical.Function,
    path: tuple,
    phase: str,
    *,
    skip: bool = False,
) -> Position:
    """Where to resume in *new_view* after a crash at *path* (in *phase*) of *old_view*;
    with *skip*, after the failing statement instead of at it."""
    old_block, new_block = old_view.body, new_view.body
    block_path: list = []
    entered: list[tuple] = []
    iterators: list[tuple[str, str]] = []
    notes: list[str] = []
    rest = path
    while len(rest) > 1:
        index, name = rest[0], rest[1]
        old_stmt = old_block[index]
        found = locate(old_block, new_block, index)
        if found is None:  # the fix removed it (a changed header is still found, by kind)
            wrapping.check_leave(old_stmt, name)
            notes.append(f"the fix removed the `{wrapping.header(old_stmt)}` around the crash; it no longer applies")
            # Its block takes its place among its siblings, and is aligned with them: aligned
            # alone against the enclosing new block, a statement the fix deleted with the
            # `if` matched the first statement of its kind there (by kind alone), and the
            # function ran again from that point. Now a deleted one resumes after it.
            inner = old_stmt.blocks[name]
            old_block = [*old_block[:index], *inner, *old_block[index + 1 :]]
            rest = (index + rest[2], *rest[3:])
            continue
        new_block = _enter(new_block, found[0], block_path, entered)
        target = found[1]
        new_stmt = new_block[target]
        if _header(old_stmt) != _header(new_stmt):
            notes.append(
                f"the header of the enclosing `{_describe(old_stmt)}` changed; the running "
                f"`{_describe(old_stmt)}` keeps its state"
            )
        if old_stmt.iterator and new_stmt.iterator:
            iterators.append((old_stmt.iterator, new_stmt.iterator))
        if name not in new_stmt.blocks:
            raise CannotMap(f"the `{_describe(old_stmt)}` around the crash lost its `{name}` block")
        block_path += [target, name]
        old_block, new_block = old_stmt.blocks[name], new_stmt.blocks[name]
        rest = rest[2:]
    index = rest[0]
    failing = old_block[index]
    found = locate(old_block, new_block, index)
    if found is not None:  # the failing statement (changed or not) moved into new statements
        new_block = _enter(new_block, found[0], block_path, entered)
    if phase == "next":
        loop = counterpart(old_block, new_block, index)
        if loop is not None and new_block[loop].iterator and failing.iterator:
            iterators.append((failing.iterator, new_block[loop].iterator))  # type: ignore[arg-type]
            if _header(failing) != _header(new_block[loop]):
                notes.append("the loop's header changed; the running loop keeps its iterator")
            position = Position(tuple(block_path), loop, True, tuple(iterators), tuple(notes), tuple(entered))
            return _checked(new_view, position)
        notes.append("the loop was changed by the fix; it starts again with a new iterator")
    start = resume_index(old_block, new_block, index + 1 if skip else index)
    position = Position(tuple(block_path), start, False, tuple(iterators), tuple(notes), tuple(entered))
    return _checked(new_view, position)


def locate(old: logical.Block, new: logical.Block, index: int) -> tuple[tuple, int] | None:
    """Statement *index* of *old* in *new*: ``(wrappers, new index)``, where *wrappers*
    (``(j0, name0, j1, name1, ...)``) leads through statements the fix added around it.

    An unchanged statement is looked for first (in place, then inside new statements), then
    a changed one of the same kind (in place, then inside)."""
    return _find(old, new, index, exact=True) or _find(old, new, index, exact=False)


def _find(old: logical.Block, new: logical.Block, index: int, *, exact: bool) -> tuple[tuple, int] | None:
    direct = _equal(old, new, index) if exact else counterpart(old, new, index)
    if direct is not None:
        return (), direct
    for j, near in _around(old, new, index):
        for name, block in new[j].blocks.items():
            if near and not exact and not _shares(old, block):
                continue  # a match by kind alone in a statement that was there is a guess
            found = _find(old, block, index, exact=exact)
            if found is not None:
                return (j, name, *found[0]), found[1]
    return None


def _equal(old: logical.Block, new: logical.Block, index: int) -> int | None:
    for tag, i1, i2, j1, _j2 in _opcodes(old, new):
        if tag == "equal" and i1 <= index < i2:
            return j1 + (index - i1)
    return None


def _around(old: logical.Block, new: logical.Block, index: int) -> list[tuple[int, bool]]:
    """The new compound statements that may now hold statement *index* of *old*, each with
    whether it is a neighbour: those written in its place (a new ``try`` around it), then the
    ones just before and after the place it left (it moved into the end of the ``if`` above
    it, or the start of the one below)."""
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag in ("replace", "delete") and i1 <= index < i2:
            near = [(j, True) for j in (j1 - 1, j2) if 0 <= j < len(new)]
            return [(j, n) for j, n in [*((j, False) for j in range(j1, j2)), *near] if new[j].blocks]
    return []


def _shares(old: logical.Block, block: logical.Block) -> bool:
    """Whether some statement of *old* is, unchanged, in *block*: statements moved there."""
    return any(tag == "equal" for tag, *_ in _opcodes(old, block))


def _enter(block: logical.Block, wrappers: tuple, block_path: list, entered: list[tuple]) -> logical.Block:
    """Go down *wrappers* (new statements around the crash) from *block*, checking that each
    can be entered; extends *block_path* and *entered*."""
    while wrappers:
        j, name = wrappers[0], wrappers[1]
        stmt = block[j]
        wrapping.check_enter(stmt, name)
        entered.append((*block_path, j))
        block_path += [j, name]
        block = stmt.blocks[name]
        wrappers = wrappers[2:]
    return block


def _checked(view: logical.Function, position: Position) -> Position:
    if not position.entered:
        return position
    notes = wrapping.check_tests(view, position)
    return Position(
        position.block, position.index, position.loop_next, position.iterators,
        (*position.notes, *notes), position.entered,
    )


def _header(stmt: logical.Stmt) -> str:
    node = stmt.node if stmt.hoist is None else _user_for(stmt)
    return normal.key(node, in_cell=stmt.region is not None)


def _describe(stmt: logical.Stmt) -> str:
    return {
        "For": "for",
        "While": "while",
        "If": "if",
        "With": "with",
        "Try": "try",
        "TryStar": "try",
        "Match": "match",
    }.get(stmt.kind, stmt.kind.lower())
