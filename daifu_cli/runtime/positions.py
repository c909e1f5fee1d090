"""Positions in the user's terms: what a person reads names their file and line.

Vaccinated code runs from the output's files, at the output's lines, with daifu's own frames
between the user's (the shim, a cell or a continuation under the function that called it, the
script function under its module). The code keeps those positions (the runtime locates crashes
by them); what is mapped is what is *shown*, at the places Python shows it:

* ``warnings``: the message handed to ``warnings._showwarnmsg`` (so the default display,
  ``catch_warnings(record=True)`` and a program's own ``showwarning`` all see it);
* ``logging``: the ``pathname``/``lineno`` a record is made with (``Logger.makeRecord``);
* ``traceback``: every stack summary it extracts (``format_exc``, ``print_exc``,
  ``format_stack``, ``logging.exception``, ``TracebackException``): daifu's frames are dropped
  and the others mapped;
* an exception that ends the program or a thread, or that cannot be raised:
  ``sys.excepthook``, ``threading.excepthook`` and ``sys.unraisablehook`` (while the program
  leaves the defaults) print it through ``traceback``.

A line of a vaccinated file maps through ``.daifu/linemaps/`` (only while the file is the one
the map was made for); a file the output copied unchanged maps to the same line of the user's
file. Positions stay as they are where the user's file is gone. The modules above are patched
when they are imported (a finder on ``sys.meta_path`` waits for them), so a program that never
imports them pays nothing. Frames, code objects and line events (``inspect``, ``sys.settrace``,
debuggers, ``frame.f_lineno``) are not changed.
"""

from __future__ import annotations

import os
import sys

from . import on_import

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

#: The shim's own folder: frames of files in it are daifu's.
SHIM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The folder as code objects name it (a script folder's forwarder loads the shim by a path
#: through ``..``).
_SHIM_DIRS = (SHIM_DIR, os.path.dirname(__file__) + os.sep)
_CO_NEWLOCALS = 0x0002


def _home() -> str:
    env = os.environ.get("DAIFU_HOME")
    if env:
        return os.path.abspath(env)
    return os.path.join(os.path.dirname(SHIM_DIR.rstrip(os.sep)), ".daifu")


class FileMap:
    """The user's file for one file of the output, and its lines."""

    __slots__ = ("entries", "lines", "user")

    def __init__(self, user: str, lines: dict[int, int] | None, entries: list[tuple[int, int, int]]) -> None:
        self.user = user
        #: Exact ``vaccinated line -> user line`` (``None``: the file is an unchanged copy).
        self.lines = lines
        #: Sorted ``(vaccinated line, user line, length)``: statements (length 0) and runs.
        self.entries = entries

    def line(self, line: int) -> int | None:
        if self.lines is None:
            return line
        found = self.lines.get(line)
        if found is not None:
            return found
        import bisect

        index = bisect.bisect_right(self.entries, (line, float("inf"), 0)) - 1
        if index < 0:
            return None
        first, original, length = self.entries[index]
        if length and line >= first + length:
            return None
        return original + (line - first if length else 0)


_MISSING = object()
_files: dict[str, Any] = {}
_roots: list[Any] = []


def _roots_once() -> tuple[str, str, str] | None:
    """``(home, output root, input root)``, or ``None`` without a manifest."""
    if not _roots:
        found = None
        try:
            import json

            home = _home()
            with open(os.path.join(home, "manifest.json"), encoding="utf-8") as handle:
                source = json.load(handle)["source"]
            found = (home, os.path.dirname(home), os.path.abspath(source))
        except (OSError, ValueError, KeyError, TypeError):
            found = None
        _roots.append(found)
    return _roots[0]  # type: ignore[no-any-return]


def file_map(filename: str) -> FileMap | None:
    """The map of an output file to the user's, or ``None`` (not an output file, the user's
    file is gone, or the file changed since its map was written)."""
    found = _files.get(filename, _MISSING)
    if found is _MISSING:
        try:
            found = _load(filename)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            found = None
        _files[filename] = found
    return found  # type: ignore[no-any-return]


def _load(filename: str) -> FileMap | None:
    if not filename or filename[0] == "<" or filename.startswith(_SHIM_DIRS):
        return None
    roots = _roots_once()
    if roots is None:
        return None
    home, output, source = roots
    path = os.path.abspath(filename)
    if not path.startswith(output + os.sep) or path.startswith(home + os.sep):
        return None
    relative = path[len(output) + 1 :]
    user = os.path.join(source, relative)
    if not os.path.isfile(user):
        return None
    linemap = os.path.join(home, "linemaps", relative + ".json")
    if not os.path.exists(linemap):
        return FileMap(user, None, [])  # copied unchanged
    import hashlib
    import json

    with open(linemap, encoding="utf-8") as handle:
        data = json.load(handle)
    with open(path, "rb") as handle:
        raw = handle.read()
    digests = {hashlib.sha256(raw).hexdigest()}
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        digests.add(hashlib.sha256(text.encode("utf-8")).hexdigest())
    except UnicodeDecodeError:
        pass
    if data.get("sha256") not in digests:
        return None  # edited since: its lines are not the map's
    exact: dict[int, int] = {}
    for vaccinated, original in data["lines"]:  # sorted: a statement's first line comes first
        exact.setdefault(int(vaccinated), int(original))
    entries = sorted([(v, o, 0) for v, o in exact.items()] + [tuple(r) for r in data.get("runs", [])])
    return FileMap(os.path.join(data.get("input", source), data.get("source", relative)), exact, entries)  # type: ignore[arg-type]


_positions: dict[tuple[str, int], Any] = {}


def where(filename: str, line: int | None) -> tuple[str, int] | None:
    """The user's ``(file, line)`` for a position of running code, or ``None`` to keep it."""
    if line is None or not filename:
        return None
    key = (filename, line)
    found = _positions.get(key, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[no-any-return]
    if filename.startswith("<daifu resume"):
        return _resumed(filename, line)
    mapping = file_map(filename)
    mapped = None if mapping is None else mapping.line(line)
    found = None if mapped is None else (mapping.user, mapped)  # type: ignore[union-attr]
    _positions[key] = found
    return found


def forget(filename: str) -> None:
    """*filename* changed (a fix was applied): map it with its new line map from now on.
    (Functions the fix did not change keep their code, and with it the old lines: where a
    fix moved them, their positions are off until they are swapped too.)"""
    _files.pop(filename, None)
    for key in [key for key in _positions if key[0] == filename]:
        del _positions[key]


def _resumed(filename: str, line: int) -> tuple[str, int] | None:
    """A line of a continuation: the user statement it runs, in the vaccinated file, mapped."""
    registry = sys.modules.get(__package__ + ".registry") if __package__ else None
    record = getattr(registry, "continuations", {}).get(filename)
    if record is None:
        return None
    found = record.lines.get(line)
    if found is None:
        return None
    from .frames import statement_at

    stmt = statement_at(record.view.body, found[0])
    node = stmt.hoist if found[1] == "iter" and stmt.hoist is not None else stmt.node
    return where(record.module.path, node.lineno)


# -- frames ---------------------------------------------------------------------------------


#: The shim function that raises the program's own exception for it (the KeyboardInterrupt
#: of a Ctrl+C, delivered at a safe point): a stack ending there is the program's, not daifu's.
DELIVERS = "_deliver_interrupt"


def is_daifu(frame: FrameType) -> bool:
    """A frame of the shim itself."""
    return frame.f_code.co_filename.startswith(_SHIM_DIRS)


def is_generated(frame: FrameType) -> bool:
    """A frame daifu adds *under* a user frame that shows the same code: a cell, a
    continuation, or the script function (its module's frame called it)."""
    code = frame.f_code
    if code.co_filename.startswith("<daifu resume"):
        return True
    if code.co_name == "<module>":
        return bool(code.co_flags & _CO_NEWLOCALS)
    from .layout import cell_of

    return cell_of(code) is not None


def visible(items: list, outer_first: bool) -> list:
    """*items* (tuples whose first element is a frame) less daifu's frames: the shim's, and a
    user frame whose work goes on in a generated frame it called (the generated frame has the
    statement's line; its caller has daifu's call line). A stack that ends in the shim (an
    error of daifu's own, the runtime's diagnostics) is left whole, unless it ends where the
    shim delivers the program's own exception (:data:`DELIVERS`)."""
    ordered = items if outer_first else items[::-1]
    if not ordered or (is_daifu(ordered[-1][0]) and ordered[-1][0].f_code.co_name != DELIVERS):
        return items
    kept = [item for item in ordered if not is_daifu(item[0])]
    result = [item for index, item in enumerate(kept) if index + 1 >= len(kept) or not is_generated(kept[index + 1][0])]
    return result if outer_first else result[::-1]


def _outer_first(items: list) -> bool:
    """Whether *items* go from caller to callee (a traceback) rather than the other way (a
    stack walked up from a frame): the first pair of frames where one is found above the other
    (a finished generator's frame has no caller) decides."""
    for first, second in zip(items, items[1:]):
        if first[0] is second[0]:
            continue
        if _above(first[0], second[0]):
            return True
        if _above(second[0], first[0]):
            return False
    return True


def _above(caller: FrameType, frame: FrameType) -> bool:
    current = frame.f_back
    for _ in range(200):
        if current is None:
            return False
        if current is caller:
            return True
        current = current.f_back
    return False


# -- what is shown --------------------------------------------------------------------------


def _map_summary(summary: Any, lookup: bool) -> None:
    """Map one ``traceback.FrameSummary`` in place."""
    mapped = where(summary.filename, summary.lineno)
    if mapped is None:
        return
    old_file, old_line = summary.filename, summary.lineno
    summary.filename, summary.lineno = mapped
    end = getattr(summary, "end_lineno", None)
    if end is not None:
        mapped_end = where(old_file, end)
        if mapped_end is None or mapped_end[0] != mapped[0] or mapped_end[1] < mapped[1]:
            summary.end_lineno = summary.lineno
            summary.colno = summary.end_colno = None
        else:
            summary.end_lineno = mapped_end[1]
            shift = _indent_shift(old_file, old_line, mapped)
            end_shift = _indent_shift(old_file, end, mapped_end)
            if shift is None or end_shift is None or summary.colno is None or summary.end_colno is None:
                summary.colno = summary.end_colno = None
            else:
                summary.colno += shift
                summary.end_colno += end_shift
    for cached in ("_line", "_lines", "_lines_dedented"):
        if hasattr(summary, cached):
            setattr(summary, cached, None)
    if lookup:
        summary.line  # noqa: B018 - read now, as traceback does with lookup_lines


def _indent_shift(filename: str, line: int, mapped: tuple[str, int]) -> int | None:
    """Columns to add to a position on *line* so that it points into the user's line (the
    statement was only re-indented), or ``None`` if the lines differ otherwise."""
    import linecache

    ours = linecache.getline(filename, line)
    theirs = linecache.getline(mapped[0], mapped[1])
    if not ours or ours.strip() != theirs.strip():
        return None
    ours_raw = ours.rstrip("\r\n").encode("utf-8")
    theirs_raw = theirs.rstrip("\r\n").encode("utf-8")
    return (len(theirs_raw) - len(theirs_raw.lstrip())) - (len(ours_raw) - len(ours_raw.lstrip()))


def _patch_traceback(module: Any) -> None:
    summary_class = module.StackSummary
    name = "_extract_from_extended_frame_gen" if "_extract_from_extended_frame_gen" in vars(summary_class) else "extract"
    original = vars(summary_class)[name].__func__
    if getattr(original, "_daifu", False):
        return

    def extract(klass: Any, frame_gen: Any, **kwargs: Any) -> Any:
        items = list(frame_gen)
        try:
            items = visible(items, _outer_first(items))
        except Exception:  # pragma: no cover - never lose a traceback to daifu
            pass
        result = original(klass, iter(items), **kwargs)
        try:
            for summary in result:
                _map_summary(summary, kwargs.get("lookup_lines", True))
        except Exception:  # pragma: no cover
            pass
        return result

    extract._daifu = True  # type: ignore[attr-defined]
    extract.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(summary_class, name, classmethod(extract))


def _patch_warnings(module: Any) -> None:
    original = module._showwarnmsg
    if getattr(original, "_daifu", False):
        return

    def _showwarnmsg(msg: Any) -> Any:
        try:
            mapped = where(msg.filename, msg.lineno)
            if mapped is not None:
                msg.filename, msg.lineno = mapped
        except Exception:  # pragma: no cover
            pass
        return original(msg)

    _showwarnmsg._daifu = True  # type: ignore[attr-defined]
    _showwarnmsg.__wrapped__ = original  # type: ignore[attr-defined]
    module._showwarnmsg = _showwarnmsg


def _patch_logging(module: Any) -> None:
    logger = module.Logger
    original = logger.makeRecord
    if getattr(original, "_daifu", False):
        return

    def makeRecord(self: Any, name: str, level: int, fn: str, lno: int, *args: Any, **kwargs: Any) -> Any:
        try:
            mapped = where(fn, lno)
            if mapped is not None:
                fn, lno = mapped
        except Exception:  # pragma: no cover
            pass
        return original(self, name, level, fn, lno, *args, **kwargs)

    makeRecord._daifu = True  # type: ignore[attr-defined]
    makeRecord.__wrapped__ = original  # type: ignore[attr-defined]
    logger.makeRecord = makeRecord


#: Modules that showing a traceback here needs: the interpreter exits by SIGINT after an
#: uncaught KeyboardInterrupt only if no code ran for the first time in the hook (an import
#: that defines a namedtuple is enough to make it exit with 1).
_LOADED_FOR_INTERRUPT = ("traceback", "linecache", "json", "hashlib", "bisect", "ast")


def _excepthook(kind: Any, value: Any, tb: Any) -> None:
    """The default hook, with the traceback shown through ``traceback`` (so mapped). Python
    3.13's own default already shows it so."""
    if sys.version_info >= (3, 13):
        sys.__excepthook__(kind, value, tb)
        return
    if issubclass(kind, KeyboardInterrupt) and not all(name in sys.modules for name in _LOADED_FOR_INTERRUPT):
        sys.__excepthook__(kind, value, tb)
        return
    text = _format(kind, value, tb)
    if text is None:
        sys.__excepthook__(kind, value, tb)
        return
    sys.stderr.write(text)
    sys.stderr.flush()


def _format(kind: Any, value: Any, tb: Any) -> str | None:
    """The traceback as the interpreter's own display (before 3.13) writes it, mapped."""
    try:
        import traceback

        if sys.version_info >= (3, 10):
            shown = traceback.TracebackException(kind, value, tb, compact=True)
        else:
            shown = traceback.TracebackException(kind, value, tb)
        if sys.version_info < (3, 11):
            _name_types_as_c_does(shown)
        return "".join(shown.format())
    except Exception:  # pragma: no cover - never lose a traceback to daifu
        return None


def _thread_excepthook(args: Any) -> None:
    """``threading``'s default hook (before 3.13, it shows the traceback itself)."""
    if args.exc_type is SystemExit:
        return
    stderr = sys.stderr
    if stderr is None:
        stderr = getattr(args.thread, "_stderr", None)
        if stderr is None:
            return
    text = _format(args.exc_type, args.exc_value, args.exc_traceback)
    if text is None:
        _thread_default(args)
        return
    import threading

    name = args.thread.name if args.thread is not None else threading.get_ident()
    print(f"Exception in thread {name}:", file=stderr, flush=True)
    stderr.write(text)
    stderr.flush()


def _unraisablehook(unraisable: Any) -> None:
    """Python's default hook for exceptions that cannot be raised (in ``__del__``, a callback
    of the garbage collector), written as the interpreter writes it, with the stack mapped."""
    try:
        text = _format_unraisable(unraisable)
    except Exception:  # pragma: no cover - never lose the report to daifu
        text = None
    if text is None:
        sys.__unraisablehook__(unraisable)
        return
    stderr = sys.stderr
    if stderr is None:
        return
    stderr.write(text)
    stderr.flush()


def _format_unraisable(unraisable: Any) -> str | None:
    import traceback

    lines = []
    obj, message = unraisable.object, unraisable.err_msg
    if obj is not None:
        try:
            shown = repr(obj)
        except Exception:
            shown = "<object repr() failed>"
        lines.append(f"{message if message is not None else 'Exception ignored in'}: {shown}\n")
    elif message is not None:
        lines.append(f"{message}:\n")
    if unraisable.exc_traceback is not None:
        stack = traceback.extract_tb(unraisable.exc_traceback)
        if sys.version_info >= (3, 13):  # its display draws no carets under the positions
            for summary in stack:
                summary.colno = summary.end_colno = None
        lines += ["Traceback (most recent call last):\n", *stack.format()]
    kind, value = unraisable.exc_type, unraisable.exc_value
    if kind is None:
        return None
    module = getattr(kind, "__module__", None)
    name = str(getattr(kind, "__qualname__", None) or getattr(kind, "__name__", "?"))
    line = name if not isinstance(module, str) or module == "builtins" else f"{module}.{name}"
    if value is not None:  # ": " even for an empty message, as the interpreter writes it
        try:
            text = str(value)
        except Exception:
            text = "<exception str() failed>"
        line += f": {text}"
    return "".join(lines) + line + "\n"


_thread_default: Any = None


def _patch_threading(module: Any) -> None:
    global _thread_default
    if sys.version_info >= (3, 13) or _thread_default is not None:
        return
    import _thread

    default = getattr(_thread, "_excepthook", None)
    if default is not None and module.excepthook is default:
        _thread_default = default
        module.excepthook = _thread_excepthook


def _name_types_as_c_does(shown: Any) -> None:
    """Before 3.11, the interpreter's own display names an exception type of ``__main__``
    ``__main__.Error``, where ``traceback`` writes ``Error``."""
    pending, seen = [shown], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
        kind = current.exc_type
        if kind is not None and kind.__module__ == "__main__":
            name = kind.__qualname__
            current.format_exception_only = _renamed_type(current.format_exception_only, name, f"__main__.{name}")


def _renamed_type(original: Any, ours: str, theirs: str) -> Any:
    def format_exception_only() -> Any:
        lines = list(original())
        if lines and lines[-1].startswith(ours):
            lines[-1] = theirs + lines[-1][len(ours) :]
        return lines

    return format_exception_only


_PATCHES = {
    "traceback": _patch_traceback,
    "warnings": _patch_warnings,
    "logging": _patch_logging,
    "threading": _patch_threading,
}


def _safely(patch: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(module: Any) -> None:
        try:
            patch(module)
        except Exception:  # pragma: no cover - a stdlib we do not know: leave it as it is
            pass

    return run


def install() -> None:
    """Patch what is imported, watch for the rest, and take the default ``sys.excepthook``."""
    if os.environ.get("DAIFU_POSITIONS", "1") == "0":
        return
    for name, patch in _PATCHES.items():
        on_import.when_imported(name, _safely(patch))
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook
    if sys.unraisablehook is sys.__unraisablehook__:
        sys.unraisablehook = _unraisablehook
