"""Render the jinja2 templates of generated code, with slots for user code.

Templates hold the scaffolding (cells, barriers, dispatch); user statements go into *slots*: a
template writes ``{{ slot("body") }}`` alone on a line, and :func:`render` replaces that line by
the :class:`Code` passed for it, indented to the slot's column. User text never passes through
jinja, so it needs no escaping and its string contents are never re-indented.

Templates live in the top-level ``templates/`` folder of the source tree and are packaged as
``daifu_cli/templates`` in the wheel.
"""

from __future__ import annotations

import ast
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2

from daifu_cli.code import Code
from daifu_cli.runtime import layout

_SLOT = "\x00slot:{}\x00"


def _template_dir() -> Path:
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_template_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,  # templates do not change while daifu runs: no stat per render
    )
    env.globals["slot"] = lambda name: _SLOT.format(name)
    env.globals["n"] = layout
    env.filters["pyrepr"] = _pyrepr
    return env


@cache
def _template(name: str) -> jinja2.Template:
    return environment().get_template(name)


def _pyrepr(value: object) -> str:
    """A Python literal for *value*, checked to parse back to the same value."""
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise ValueError(f"not a literal: {value!r}")
    return text


#: (template, values) -> the rendered lines, each ``(text, slot name or None)``. Most
#: renders repeat: every barrier and dispatch of a file is the same text (half the renders of
#: a long script), and jinja's render costs more than the rest of emitting a cell.
_rendered: dict[tuple[str, object], list[tuple[str, str | None]]] = {}
_RENDERED_MAX = 4096


def _plain(value: object) -> bool:
    """A value whose repr says everything a template can read of it (so it can key a cache)."""
    if value is None or type(value) in (str, int, bool):
        return True
    if type(value) in (list, tuple):
        return all(_plain(item) for item in value)  # type: ignore[attr-defined]
    return False


_SIMPLE = (str, int, bool, type(None))


def _key(template: str, values: dict[str, Any]) -> tuple[str, object] | None:
    """The cache key for rendering *template* with *values*: each value with its type (``True``
    and ``1`` render differently), lists of strings as tuples; their repr for other plain
    values (building the repr of every render's values cost as much as the rest of it)."""
    parts = []
    for name in sorted(values):
        value = values[name]
        kind = type(value)
        if kind in _SIMPLE:
            parts.append((name, kind, value))
        elif kind in (list, tuple) and all(type(item) is str for item in value):
            parts.append((name, kind, tuple(value)))
        else:
            break
    else:
        return (template, tuple(parts))
    return (template, repr(sorted(values.items()))) if all(_plain(v) for v in values.values()) else None


#: Values each template only writes out as they are (``{{ name }}``, or tested for being set):
#: they are rendered as markers and put in afterwards, so the cache serves every cell, whose
#: names and descriptions differ (jinja rendered each one otherwise).
_WRITTEN_AS_IS = {
    "cell.py.j2": ("name", "description"),
    "function.py.j2": ("summary",),
    "with.py.j2": ("cell",),
    "try_finally.py.j2": ("body_cell", "else_cell", "finally_cell"),
}
_MARK = "\x02"


def _lines(template: str, values: dict[str, Any]) -> list[tuple[str, str | None]]:
    written = {
        name: value
        for name in _WRITTEN_AS_IS.get(template, ())
        if isinstance(value := values.get(name), str) and value and "\n" not in value and _MARK not in value
    }
    if written:
        values = {**values, **{name: f"{_MARK}{name}{_MARK}" for name in written}}
    key = _key(template, values)
    lines = _rendered.get(key) if key is not None else None
    if lines is None:
        lines = []
        for line in _template(template).render(**values).split("\n"):
            stripped = line.strip()
            slot = stripped[len("\x00slot:") : -1] if stripped.startswith("\x00slot:") else None
            lines.append((line, slot))
        if key is not None and len(_rendered) < _RENDERED_MAX:
            _rendered[key] = lines
    if written:
        lines = [(_filled(line, written), slot) if _MARK in line else (line, slot) for line, slot in lines]
    return lines


def _filled(line: str, written: dict[str, str]) -> str:
    for name, value in written.items():
        line = line.replace(f"{_MARK}{name}{_MARK}", value)
    return line


def render(template: str, slots: dict[str, Code] | None = None, **values: Any) -> Code:
    """Render *template* and fill its slots; every slot must be used exactly once."""
    slots = slots or {}
    out = Code()
    used: set[str] = set()
    for line, slot in _lines(template, values):
        if slot is not None:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(slots[slot], indent)
            used.add(slot)
        else:
            out.lines.append((line, False))
    missing = set(slots) - used
    if missing:
        raise ValueError(f"{template}: slots never placed: {sorted(missing)}")
    return out
