"""Fixes that move the running statements into a new enclosing statement, or out of one.

The most common fix for bad data wraps the failing block in ``try: ... except ...: continue``.
The statements before the failing one already ran (without the new ``try``); resuming *inside*
the new statement means the continuation enters it right at the failing statement, so that
what the fix wrapped around it applies to the rest of the block. What that means, per kind:

* a new ``try`` (its body): the continuation enters the ``try`` and starts at the failing
  statement; its handlers, ``else`` and later statements behave as in the fixed program;
* a new ``if`` (body or ``else``): its test is evaluated when the continuation enters it, at
  the failing statement, not before the statements that already ran. That is the value the
  fixed program would have seen unless those statements set a name the test reads: then daifu
  refuses (it cannot know what the test was before them);
* a new ``with`` (or ``try`` with ``finally``): entered the same way; the manager is entered
  when the continuation reaches it (``torch.no_grad()`` then covers the resumed statements),
  with the same check as a new ``if`` on the names its expression reads. Such a block runs in
  a cell; the continuation calls a cut copy of that cell (from the failing statement on);
* a new loop: refused. The statements that already ran were one pass; daifu cannot tell which
  iteration of the new loop they were, nor take an item from a new iterator for them;
* a new ``match``, or a new ``try``'s ``except``/``else``/``finally`` clause: refused (the
  failing statement would run only if something that did not happen had happened).

The same holds for an existing statement the fix moved the failing statement into (the end
of the ``if`` above it): it already ran, and is entered again at the failing statement.

Leaving a statement (the fix removed a ``try`` or ``if`` around the crash) needs nothing: its
handlers or test simply no longer apply. A removed loop, ``with`` or ``try``-with-``finally``
around the crash is refused: they hold running state (an iterator, an entered manager).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from . import logical
from .names import bound_names

if TYPE_CHECKING:
    from .align import Position


class CannotMap(Exception):
    """The fix changed the structure around the crash beyond recognition."""


def header(stmt: logical.Stmt) -> str:
    """The statement's header as the user wrote it, for messages: ``with torch.no_grad()``."""
    node = stmt.node
    if isinstance(node, ast.If):
        return f"if {ast.unparse(node.test)}"
    if isinstance(node, ast.While):
        return f"while {ast.unparse(node.test)}"
    if isinstance(node, ast.For):
        iterable = stmt.hoist.value.args[0] if stmt.hoist is not None else node.iter  # type: ignore[attr-defined]
        return f"for {ast.unparse(node.target)} in {ast.unparse(iterable)}"
    if isinstance(node, ast.With):
        return "with " + ", ".join(ast.unparse(item) for item in node.items)
    if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
        return "try"
    if type(node).__name__ == "Match":
        return f"match {ast.unparse(node.subject)}"  # type: ignore[attr-defined]
    return type(node).__name__.lower()


def check_enter(stmt: logical.Stmt, name: str) -> None:
    """Raise :class:`CannotMap` unless a continuation can enter the new *stmt* at its block
    *name* (see the module doc)."""
    what = f"`{header(stmt)}`"
    node = stmt.node
    if isinstance(node, ast.With) and name == "body":
        return
    if isinstance(node, (ast.For, ast.While)):
        raise CannotMap(
            f"the fix moved the failing statement into the loop {what}; the statements before it "
            "already ran once, outside that loop, and daifu cannot tell which iteration that was"
        )
    if (isinstance(node, ast.Try) or type(node).__name__ == "TryStar") and name == "body":
        return
    if isinstance(node, ast.If) and name in ("body", "orelse"):
        return
    if type(node).__name__ == "Match":
        part = "a case"
    else:
        clause = {"orelse": "else", "finalbody": "finally"}.get(name, "except" if name.startswith("handler") else name)
        part = f"the `{clause}` part"
    raise CannotMap(
        f"the fix moved the failing statement into {part} of {what}; it would run only if "
        "what leads there had happened, and daifu cannot tell"
    )


def check_leave(stmt: logical.Stmt, name: str) -> None:
    """Raise :class:`CannotMap` unless a fix may remove *stmt* around the crash (the crash is
    in its block *name*): a ``try``'s body or an ``if``'s branch can simply be left."""
    node = stmt.node
    what = f"`{header(stmt)}`"
    if isinstance(node, (ast.For, ast.While)):
        why = "it is a running loop, and daifu cannot tell how its remaining iterations should run without it"
    elif stmt.cells:
        why = ("its block runs in a cell of its own (the manager is entered, or the `finally` "
               "pending), which daifu cannot leave early")
    elif (isinstance(node, ast.Try) and name == "body") or (isinstance(node, ast.If) and name in ("body", "orelse")):
        return
    else:
        why = "daifu can leave only a `try` body or an `if` branch"
    raise CannotMap(f"the fix removed the {what} that the crash happened inside: {why}")


def check_tests(view: logical.Function, position: Position) -> tuple[str, ...]:
    """Notes for the new ``if`` and ``with`` statements the continuation enters; raises
    :class:`CannotMap` if a test or manager reads a name that statements which already ran
    inside it set."""
    notes = []
    for owner_path in position.entered:
        owner = _statement(view, owner_path)
        node = owner.node
        if isinstance(node, ast.If):
            what = "its test is evaluated now"
        elif isinstance(node, ast.With):
            what = "its manager is entered now"
        else:
            continue
        clash = set_before_entry(view, owner_path, position)
        if clash:
            raise CannotMap(
                f"the fix put the failing statement inside `{header(owner)}`, and statements "
                f"inside it that already ran set {', '.join(clash)}: daifu cannot tell what it "
                "would have seen before them"
            )
        notes.append(f"the `{header(owner)}` now around the failing statement is entered there: {what}")
    return tuple(notes)


def set_before_entry(view: logical.Function, owner_path: tuple, position: Position) -> list[str]:
    """The names that the test of the ``if`` (or the managers of the ``with``) at *owner_path*
    reads and that statements inside it before *position* set: evaluated again at *position*,
    it could see other values than it saw when the block began."""
    node = _statement(view, owner_path).node
    if isinstance(node, ast.If):
        evaluated = [node.test]
    elif isinstance(node, ast.With):
        evaluated = [i.context_expr for i in node.items]
    else:
        return []
    ran = _before(view, owner_path, position)
    read = {n.id for e in evaluated for n in ast.walk(e) if isinstance(n, ast.Name)}
    return sorted(read & bound_names([s.node for s in ran]))


def _statement(view: logical.Function, path: tuple) -> logical.Stmt:
    from .frames import statement_at

    return statement_at(view.body, path)


def _before(view: logical.Function, owner_path: tuple, position: Position) -> list[logical.Stmt]:
    """Statements inside the statement at *owner_path* that come before the resume position
    (each with everything nested in it), and the loops between (their targets are bound)."""
    depth = len(owner_path)
    owner = _statement(view, owner_path)
    block = owner.blocks[position.block[depth]]
    steps = [*position.block[depth + 1 :], position.index]
    found: list[logical.Stmt] = []
    while steps:
        index = steps[0]
        for _path, stmt in logical.walk(block[:index]):
            found.append(stmt)
        if len(steps) == 1:
            break
        enclosing = block[index]
        if isinstance(enclosing.node, ast.For):
            found.append(logical.Stmt(ast.Assign([enclosing.node.target], ast.Constant(None)), None))
        block, steps = enclosing.blocks[steps[1]], steps[2:]
    return found
