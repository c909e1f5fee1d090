"""The crash report, in the user's terms.

Lines of vaccinated files are mapped back to the user's own file with the line maps that
``daifu vaccinate`` writes to ``.daifu/linemaps/``; the source shown around the failure comes
from the user's file when it is still there (else from the vaccinated copy). Variables are
summarised, never dumped: tensors show shape, dtype and device.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import json
import linecache
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any

from . import layout, registry


@dataclass
class LineMap:
    """Vaccinated line -> original line: exact inside runs of copied lines (the module's own
    lines, and the statements, defs and classes inside vaccinated code that were copied line
    for line), the statement's first line elsewhere inside vaccinated code."""

    original: Path
    #: Sorted ``(vaccinated line, original line, length)``; length 0 marks a statement.
    entries: list[tuple[int, int, int]]

    def __post_init__(self) -> None:
        self._runs = [e for e in self.entries if e[2]]
        self._statements = [e for e in self.entries if not e[2]]

    def line(self, vaccinated_line: int) -> int | None:
        run = _last_before(self._runs, vaccinated_line)
        if run is not None and vaccinated_line < run[0] + run[2]:
            return run[1] + (vaccinated_line - run[0])
        stmt = _last_before(self._statements, vaccinated_line)
        if stmt is None:
            return None
        if run is not None and stmt[0] < run[0]:
            # a run of copied lines ended between the statement and this line: a line daifu
            # wrote between runs of the module's own lines (a vaccinated function's header)
            return None
        return stmt[1]


def _last_before(entries: list[tuple[int, int, int]], line: int) -> tuple[int, int, int] | None:
    index = bisect.bisect_right(entries, (line, float("inf"), 0)) - 1
    return entries[index] if index >= 0 else None


_maps: dict[tuple[str, str], LineMap | None] = {}


def line_map(vaccinated_path: str, source: str, home: Path) -> LineMap | None:
    """The map of *vaccinated_path* if it matches *source* (the code that runs)."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    key = (vaccinated_path, digest)
    if key in _maps:
        return _maps[key]
    found = None
    try:
        relative = Path(vaccinated_path).resolve().relative_to(home.parent.resolve())
        data = json.loads((home / "linemaps" / f"{relative}.json").read_text(encoding="utf-8"))
        if data.get("sha256") == digest:
            entries = [(v, o, 0) for v, o in data["lines"]] + [tuple(r) for r in data.get("runs", [])]
            found = LineMap(Path(data["input"]) / data["source"], sorted(entries))  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError):
        found = None
    _maps[key] = found
    return found


def user_location(
    filename: str,
    line: int,
    home: Path,
    *,
    code: CodeType | None = None,
    generation: registry.Generation | None = None,
) -> tuple[str, int, str | None]:
    """``(file to show, line, text of that line)`` for a line of running code: of *code* if
    given (a frame's code, which may be older than the module's newest version), else of
    *generation*, else of the newest version."""
    continuation = registry.continuations.get(filename)
    if continuation is not None:  # resumed code: map back through the statement it runs
        origin = continuation.origins.get(line)
        if origin is not None:
            return user_location(continuation.module.path, origin, home, generation=continuation.generation)
        found = continuation.lines.get(line)
        if found is not None:
            from .frames import statement_at

            stmt = statement_at(continuation.view.body, found[0])
            node = stmt.hoist if found[1] == "iter" and stmt.hoist is not None else stmt.node
            return user_location(continuation.module.path, node.lineno, home, generation=continuation.generation)
    record = registry.module_by_path(filename)
    if record is not None:
        if generation is None and code is not None:
            generation = record.generation_for(code)
        if generation is not None and generation is not record.current:
            newest_line = carried(generation, record.current, line)
            if newest_line is None:  # the line is gone from the newest version
                return _older_location(filename, line, home, generation)
            line = newest_line
        mapping = line_map(filename, record.source, home)
        if mapping is not None:
            original = mapping.line(line)
            if original is not None and mapping.original.exists():
                text = _fresh_line(str(mapping.original), original)
                return (_short(mapping.original), original, text or None)
            if original is not None:
                return (_short(mapping.original), original, None)
        return (_short(Path(filename)), line, _line_of(record.source, line).rstrip() or None)
    copied = _input_copy(filename, home)
    if copied is not None:  # a file of the output copied unchanged: show the user's own
        text = _fresh_line(str(copied), line)
        return (_short(copied), line, text or None)
    text = _fresh_line(filename, line)
    return (_short(Path(filename)) if not filename.startswith("<") else filename, line, text or None)


def _older_location(
    filename: str, line: int, home: Path, generation: registry.Generation
) -> tuple[str, int, str | None]:
    """Where *line* of an older *generation* is, when the fixes since changed or removed it:
    the user's file no longer holds its text, the generation's vaccinated line does (unless
    daifu wrote that line). Its user line comes from that generation's line map, which the
    runtime read while it was the newest (the one on disk is for the newest version); without
    it, the vaccinated line is named, with the generation."""
    text = _line_of(generation.source, line).strip()
    shown = None if _is_scaffolding(text) else text or None
    mapping = line_map(filename, generation.source, home)
    original = mapping.line(line) if mapping is not None else None
    if mapping is not None and original is not None:
        return (_short(mapping.original), original, shown)
    return (f"{_short(Path(filename))} (version {generation.number}, since replaced)", line, shown)


def _line_of(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _is_scaffolding(text: str) -> bool:
    return layout.PREFIX in text or f"{layout.RUNTIME}." in text


def _fresh_line(filename: str, line: int) -> str:
    """Line *line* of *filename* as the file is now. ``linecache`` keeps what it read first:
    after a fix, a second crash's traceback (and the console's ``where``) showed the lines of
    the code that no longer runs. ``checkcache`` drops a file's entry when its size or mtime
    changed (entries without a file, such as continuations' ``<daifu resume N>``, stay)."""
    linecache.checkcache(filename)
    return linecache.getline(filename, line).rstrip()


_carried: dict[tuple[int, int], tuple[registry.Generation, registry.Generation, list[tuple[int, int, int]]]] = {}


def carried(old: registry.Generation, new: registry.Generation, line: int) -> int | None:
    """*line* of *old*'s vaccinated source as a line of *new*'s, if the fixes since left it
    unchanged (the line maps on disk are for the newest version only)."""
    key = (id(old), id(new))
    found = _carried.get(key)
    if found is None or found[0] is not old or found[1] is not new:
        matcher = difflib.SequenceMatcher(None, old.source.splitlines(), new.source.splitlines(), autojunk=False)
        found = _carried[key] = (old, new, [(a, b, n) for a, b, n in matcher.get_matching_blocks() if n])
    for first_old, first_new, length in found[2]:
        if first_old < line <= first_old + length:
            return first_new + (line - first_old)
    return None


_input_root: dict[Path, Path | None] = {}


def _input_copy(filename: str, home: Path) -> Path | None:
    """The user's file that *filename* (in the output) is an unchanged copy of."""
    if filename.startswith("<"):
        return None
    if home not in _input_root:
        try:
            _input_root[home] = Path(json.loads((home / "manifest.json").read_text(encoding="utf-8"))["source"])
        except (OSError, ValueError, KeyError):
            _input_root[home] = None
    root = _input_root[home]
    if root is None:
        return None
    try:
        relative = Path(filename).resolve().relative_to(home.parent.resolve())
    except ValueError:
        return None
    candidate = root / relative
    return candidate if candidate.is_file() else None


def _short(path: Path) -> str:
    text = str(path)
    for marker in ("site-packages/", "dist-packages/"):
        if marker in text:
            return text.split(marker, 1)[1]
    try:
        return os.path.relpath(path)
    except ValueError:
        return text


def context_lines(
    filename: str, line: int, home: Path, around: int = 2, *, generation: registry.Generation | None = None
) -> list[str]:
    """Source lines around a failure, with a marker on the failing one (*generation*: the
    version of the module *line* belongs to, by default the newest)."""
    record = registry.module_by_path(filename)
    gone = (
        record is not None and generation is not None and generation is not record.current
        and carried(generation, record.current, line) is None
    )
    if gone and generation is not None and line_map(filename, generation.source, home) is not None:
        # its user line is known, but the user's file holds the fixed text around it now
        return ["  (the code that crashed is older than your file: a fix came since; `where` shows its lines)"]
    shown, number, _ = user_location(filename, line, home, generation=generation)
    path = Path(shown)
    lines: list[str] = []
    if path.exists():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    elif record is not None:
        if gone and generation is not None:
            lines, number = generation.source.splitlines(), line  # shown as the old version's line
        else:
            lines, number = record.source.splitlines(), line
    out = []
    for n in range(max(1, number - around), min(len(lines), number + around) + 1):
        marker = ">" if n == number else " "
        out.append(f"  {marker} {n:4d} | {lines[n - 1]}")
    return out


def traceback_lines(tb: TracebackType | None, home: Path) -> list[str]:
    """The traceback in the user's files; runs of library frames shrink to one line."""
    out: list[str] = []
    library: list[str] = []
    entries = [(f, n) for f, n in traceback.walk_tb(tb) if not f.f_code.co_filename.startswith(_RUNTIME_DIR)]
    for index, (frame, line) in enumerate(entries):
        code = frame.f_code
        shown, number, text = user_location(code.co_filename, line, home, code=code)
        last = index == len(entries) - 1
        if _is_library(code.co_filename) and not last:
            library.append(_package_of(code.co_filename))
            continue
        if library:
            out.append(f"  ... {len(library)} frames in {', '.join(sorted(set(library)))}")
            library = []
        name = "<module>" if code.co_name in ("<module>", "__daifu_script__") else code.co_name
        out.append(f"  {shown}:{number} in {name}")
        if text:
            out.append(f"      {text.strip()}")
    return out


_RUNTIME_DIR = str(Path(__file__).parent)
_LIBRARY_MARKERS = ("site-packages", "dist-packages", "/lib/python3")


def _is_library(filename: str) -> bool:
    return filename.startswith("<frozen") or any(m in filename for m in _LIBRARY_MARKERS)


def _package_of(filename: str) -> str:
    for marker in ("site-packages/", "dist-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    return "the standard library"


def summarize(value: Any, width: int = 70) -> str:
    """A one-line description of *value* that never prints a whole tensor."""
    kind = type(value)
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None and hasattr(value, "device"):
        dims = ", ".join(str(d) for d in tuple(shape))
        extra = " requires_grad" if getattr(value, "requires_grad", False) else ""
        return f"{kind.__name__}[{dims}] {str(dtype).replace('torch.', '')} {value.device}{extra}"
    if shape is not None and dtype is not None:
        return f"{kind.__name__}{tuple(shape)} {dtype}"
    groups = getattr(value, "param_groups", None)
    if isinstance(groups, list) and hasattr(value, "step") and hasattr(value, "state_dict"):
        lrs = sorted({g.get("lr") for g in groups if isinstance(g, dict) and "lr" in g}, key=str)
        lr = f", lr={lrs[0]}" if len(lrs) == 1 else ""
        return f"{kind.__name__} ({len(groups)} parameter group{'s' if len(groups) != 1 else ''}{lr})"
    parameters = getattr(value, "parameters", None)
    if callable(parameters) and hasattr(value, "state_dict") and hasattr(value, "forward"):
        try:
            count = sum(p.numel() for p in parameters())
            return f"{kind.__name__} ({_count(count)} parameters)"
        except Exception:
            return kind.__name__
    if isinstance(value, (list, tuple, dict, set)):
        return f"{kind.__name__} of {len(value)}"
    try:
        text = repr(value)
    except Exception:
        text = f"<{kind.__name__}>"
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."


def _count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def variables(names_values: list[tuple[str, Any]], limit: int = 30) -> list[str]:
    out = []
    width = max((len(n) for n, _ in names_values[:limit]), default=0)
    for name, value in names_values[:limit]:
        out.append(f"  {name.ljust(width)}  {summarize(value)}")
    if len(names_values) > limit:
        out.append(f"  ... {len(names_values) - limit} more (use `p NAME` in the console)")
    return out
