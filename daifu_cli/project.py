"""Vaccinate a whole project: every file reaches the output, Python files through the pipeline.

The output is built aside and moved into place, so it appears whole or not at all; the input
is only ever read. Files of at least the link threshold are hard-linked rather than copied.
The output ships the runtime shim (``_daifu_shim/``), so it runs where only the project's own
dependencies are installed, and ``.daifu/`` with the manifest (what was vaccinated from
what), the runtime settings, the line maps back to the user's files and the patch folder.

Re-vaccinating reuses the output of every file whose input and options did not change.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import daifu
from daifu_cli import __version__, files, keep, pipeline
from daifu_cli.options import ProjectConfig
from daifu_cli.passes import frameworks
from daifu_cli.passes.select import Selection
from daifu_cli.runtime import layout, trust

MANIFEST = ".daifu/manifest.json"
RUNTIME_SOURCES = Path(__file__).parent / "runtime"
#: The ``daifu`` marker package, shipped in the shim for outputs run where daifu is not installed.
DAIFU_MARKER_SOURCE = Path(daifu.__file__)
_PARALLEL_MIN_FILES = 16


class ProjectError(Exception):
    """A problem with the request itself (paths, options): nothing is written."""


@dataclass
class FileSummary:
    """What the pipeline did to one Python file (picklable, for worker processes)."""

    relpath: str
    text: str | None
    #: The output file's bytes (verified by the pipeline as Python reads them from disk).
    data: bytes | None = None
    encoding: str = "utf-8"
    vaccinated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, int, str, bool]] = field(default_factory=list)
    decisions: list[tuple[str, int, bool, str]] = field(default_factory=list)
    linemap: list[tuple[int, int]] = field(default_factory=list)
    runs: list[tuple[int, int, int]] = field(default_factory=list)
    error: str | None = None
    error_line: int = 0
    lines: int = 0
    cached: bool = False


@dataclass
class Outcome:
    files: int = 0
    python_files: int = 0
    lines: int = 0
    summaries: dict[str, FileSummary] = field(default_factory=dict)
    linked: int = 0
    linked_bytes: int = 0
    copied: int = 0
    skipped_dirs: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    internal_errors: int = 0
    #: Files that runs wrote into the output, carried over into the new one.
    kept: list[str] = field(default_factory=list)
    #: Of those, files the project also has: its copy was not placed over the run's.
    kept_over_project: list[str] = field(default_factory=list)

    @property
    def vaccinated_files(self) -> list[str]:
        return [r for r, s in self.summaries.items() if s.vaccinated]

    @property
    def functions(self) -> int:
        return sum(len([q for q in s.vaccinated if q != "<script>"]) for s in self.summaries.values())

    @property
    def scripts(self) -> int:
        return sum(1 for s in self.summaries.values() if "<script>" in s.vaccinated)

    @property
    def skipped(self) -> list[tuple[str, tuple[str, int, str, bool]]]:
        return [(r, k) for r, s in self.summaries.items() for k in s.skipped]

    @property
    def errors(self) -> list[tuple[str, int, str]]:
        return [(r, s.error_line, s.error) for r, s in self.summaries.items() if s.error]


@dataclass(frozen=True)
class Request:
    source: Path
    output: Path
    config: ProjectConfig = field(default_factory=ProjectConfig)
    mode: Literal["write", "check", "diff"] = "write"
    force: bool = False
    jobs: int = 0
    #: Replace an output even while processes run from it (their files are kept).
    replace_running: bool = False
    #: The project's framework hooks (:func:`with_hooks` finds them).
    hooks: frameworks.Hooks = field(default_factory=dict, compare=False)

    def with_hooks(self, entries: list[files.Entry]) -> Request:
        """This request with the framework hooks of the project's Python files."""
        sources = []
        for entry in entries:
            if entry.is_python:
                try:
                    sources.append((entry.relpath, entry.path.read_bytes()))
                except OSError:
                    continue
        return replace(self, hooks=frameworks.project_hooks(sources))

    def pipeline_options(self) -> pipeline.Options:
        selection = Selection(self.config.policy, self.config.select, self.config.exclude, self.hooks)  # type: ignore[arg-type]
        return pipeline.Options(selection, self.config.format, self.config.line_length)

    def fingerprint(self) -> str:
        data = {
            "version": __version__,
            "policy": self.config.policy,
            "select": self.config.select,
            "exclude": self.config.exclude,
            "format": self.config.format,
            "line_length": self.config.line_length,
        }
        if self.hooks:
            data["hooks"] = frameworks.digest(self.hooks)
        return files.sha256(json.dumps(data, sort_keys=True).encode())


Progress = Callable[[int, int, str], None]
#: ``(file, pass, functions done, functions in all)``: progress within a file that has taken
#: more than :data:`STEPS_AFTER` seconds so far (a big file; see ``pipeline.Steps``).
FileProgress = Callable[[str, str, int, int], None]
STEPS_AFTER = 1.0
_STEPS_EVERY = 0.1


class _Steps:
    """``pipeline.Steps`` for one file: passes on to *sink*, once the file has taken more than
    STEPS_AFTER seconds, at most every _STEPS_EVERY seconds."""

    def __init__(self, relpath: str, sink: FileProgress) -> None:
        self.relpath, self.sink = relpath, sink
        self.started = self.last = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started >= STEPS_AFTER and now - self.last >= _STEPS_EVERY:
            self.last = now
            self.sink(self.relpath, phase, done, total)


#: In a worker process: where to send progress within a file (a multiprocessing queue).
_worker_queue: Any = None


def _init_worker(queue: Any) -> None:
    global _worker_queue
    _worker_queue = queue


def _to_queue(relpath: str, phase: str, done: int, total: int) -> None:
    try:
        _worker_queue.put_nowait((relpath, phase, done, total))
    except Exception:  # a full or closed queue only costs a progress update
        pass


def check_paths(request: Request) -> None:
    """Refuse requests that could lose data, before anything is read or written."""
    source, output = request.source.resolve(), request.output.resolve()
    if not source.is_dir():
        raise ProjectError(f"{request.source} is not a folder")
    if output == source:
        raise ProjectError("the output folder is the input folder; choose another with -o")
    if source in output.parents:
        raise ProjectError(f"the output {request.output} is inside the input {request.source}")
    if output in source.parents:
        raise ProjectError(f"the input {request.source} is inside the output {request.output}")
    if request.mode != "write" or not output.exists():
        return
    if not output.is_dir():
        raise ProjectError(f"{request.output} exists and is not a folder")
    if (output / MANIFEST).is_file():
        if not request.force:
            raise ProjectError(
                f"{request.output} holds an earlier daifu output; pass --force to replace it "
                "(or use `daifu patch` to update it in place)"
            )
        running = keep.live_runs(output)
        if running and not request.replace_running:
            pids = ", ".join(f"pid {r['pid']} ({r.get('status', 'running')})" for r in running)
            raise ProjectError(
                f"{request.output} is in use by {len(running)} run(s): {pids}. `daifu patch "
                f"{request.source} -o {request.output}` brings a fix to them; pass "
                "--replace-running to replace the output anyway (files the runs wrote are kept)"
            )
    elif any(output.iterdir()):
        raise ProjectError(f"{request.output} exists and is not a daifu output; refusing to overwrite it")


def vaccinate_project(
    request: Request, progress: Progress | None = None, file_progress: FileProgress | None = None
) -> Outcome:
    """Vaccinate *request.source* into *request.output* (or compare, in check/diff mode).
    *progress* hears of each file done; *file_progress*, of the functions of a file that
    takes more than a second."""
    started = time.perf_counter()
    check_paths(request)
    entries, skipped_dirs = files.walk(request.source)
    request = request.with_hooks(entries)
    outcome = Outcome(files=sum(1 for e in entries if not e.folder), skipped_dirs=skipped_dirs)
    previous = _read_manifest(request.output)
    summaries = _transform_all(request, entries, previous, progress, file_progress)
    outcome.summaries = summaries
    outcome.python_files = len(summaries)
    outcome.lines = sum(s.lines for s in summaries.values())
    outcome.internal_errors = sum(1 for s in summaries.values() for k in s.skipped if k[3])
    planned = _planned_files(request, entries, summaries)
    if request.mode == "write":
        _build_and_swap(request, planned, outcome)
    else:
        _compare(request, planned, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


# -- transforming ---------------------------------------------------------------------------


def _transform_all(
    request: Request,
    entries: list[files.Entry],
    previous: dict[str, Any],
    progress: Progress | None,
    file_progress: FileProgress | None = None,
) -> dict[str, FileSummary]:
    python = [e for e in entries if e.is_python]
    fingerprint = request.fingerprint()
    cached_files = previous.get("files", {}) if previous.get("fingerprint") == fingerprint else {}
    work: list[tuple[str, bytes]] = []
    summaries: dict[str, FileSummary] = {}
    for entry in python:
        data = entry.path.read_bytes()
        cached = _cached_summary(request.output, entry.relpath, data, cached_files.get(entry.relpath))
        if cached is not None:
            summaries[entry.relpath] = cached
        else:
            work.append((entry.relpath, data))
    options = request.pipeline_options()
    done = len(summaries)
    total = len(python)
    jobs = request.jobs or os.cpu_count() or 1
    if len(work) >= _PARALLEL_MIN_FILES and jobs > 1:
        queue = listener = None
        if file_progress is not None:
            queue, listener = _listen(file_progress)
        try:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(queue,)) as pool:
                # Largest files first, in small chunks: no worker is left with a long file at the end
                # while the others idle (the order of the summaries is restored below).
                work.sort(key=lambda item: -len(item[1]))
                chunk = max(1, min(4, len(work) // (jobs * 16)))
                results = pool.map(_transform_one, work, [options] * len(work), chunksize=chunk)
                for summary in results:
                    summaries[summary.relpath] = summary
                    done += 1
                    if progress:
                        progress(done, total, summary.relpath)
        finally:
            if queue is not None and listener is not None:
                queue.put(None)
                listener.join()
    else:
        for item in work:
            summary = _transform_one(item, options, file_progress) if file_progress else _transform_one(item, options)
            summaries[summary.relpath] = summary
            done += 1
            if progress:
                progress(done, total, summary.relpath)
    return dict(sorted(summaries.items()))


def _listen(file_progress: FileProgress) -> tuple[Any, Any]:
    """A queue for the workers' progress within files, and the thread passing it on."""
    import multiprocessing
    import threading

    queue = multiprocessing.get_context().Queue()

    def listen() -> None:
        # Reads to the end whatever happens: workers flush the queue as they exit, and a
        # reader that stopped would leave them (and the pool's shutdown) waiting.
        while (message := queue.get()) is not None:
            try:
                file_progress(*message)
            except Exception:  # a display error only costs a progress update
                pass

    listener = threading.Thread(target=listen, name="daifu-file-progress", daemon=True)
    listener.start()
    return queue, listener


def _transform_one(
    item: tuple[str, bytes], options: pipeline.Options, file_progress: FileProgress | None = None
) -> FileSummary:
    relpath, data = item
    sink = file_progress or (_to_queue if _worker_queue is not None else None)
    steps = _Steps(relpath, sink) if sink is not None else None
    result = pipeline.vaccinate_source(relpath, data, options, steps)
    return FileSummary(
        relpath=relpath,
        text=result.text,
        data=result.data,
        encoding=result.encoding,
        vaccinated=result.vaccinated,
        skipped=[(s.qualname, s.line, s.reason, s.internal) for s in result.skipped],
        decisions=[(d.qualname, d.line, d.selected, d.reason) for d in result.decisions],
        linemap=result.linemap,
        runs=result.runs,
        error=result.error,
        error_line=result.error_line,
        lines=data.count(b"\n") + 1,
    )


def _cached_summary(output: Path, relpath: str, data: bytes, record: dict[str, Any] | None) -> FileSummary | None:
    if not record or record.get("input") != files.sha256(data):
        return None
    if record.get("error"):
        return None
    summary = FileSummary(relpath, None, cached=True, lines=data.count(b"\n") + 1)
    summary.vaccinated = record.get("vaccinated", [])
    summary.skipped = [tuple(s) for s in record.get("skipped", [])]  # type: ignore[misc]
    summary.decisions = [tuple(d) for d in record.get("decisions", [])]  # type: ignore[misc]
    if summary.vaccinated:
        target = output / relpath
        try:
            text_bytes = target.read_bytes()
        except OSError:
            return None
        if files.sha256(text_bytes) != record.get("output"):
            return None
        summary.encoding = record.get("encoding", "utf-8")
        summary.text = _decoded(text_bytes, summary.encoding)
        summary.data = text_bytes
        linemap = output / ".daifu" / "linemaps" / f"{relpath}.json"
        try:
            mapping = json.loads(linemap.read_text())
            summary.linemap = [tuple(p) for p in mapping["lines"]]  # type: ignore[misc]
            summary.runs = [tuple(r) for r in mapping["runs"]]  # type: ignore[misc]
        except (OSError, ValueError, KeyError):
            return None
    return summary


# -- what the output holds -------------------------------------------------------------------


@dataclass
class Planned:
    """One file of the output: bytes to write, or an input file to copy or link."""

    data: bytes | None = None
    entry: files.Entry | None = None


def _planned_files(request: Request, entries: list[files.Entry], summaries: dict[str, FileSummary]) -> dict[str, Planned]:
    planned: dict[str, Planned] = {}
    manifest_files: dict[str, Any] = {}
    copied: dict[str, Any] = {}
    for entry in entries:
        summary = summaries.get(entry.relpath)
        if summary is not None and summary.text is not None and summary.data is not None:
            encoding = summary.encoding
            data = summary.data
            planned[entry.relpath] = Planned(data=data, entry=entry)
            planned[f".daifu/linemaps/{entry.relpath}.json"] = Planned(
                data=_json(
                    {
                        "source": entry.relpath,
                        "input": str(request.source.resolve()),
                        "sha256": files.sha256(summary.text.encode("utf-8")),
                        "lines": [list(p) for p in summary.linemap],
                        "runs": [list(r) for r in summary.runs],
                    }
                )
            )
            output_sha = files.sha256(data)
        else:
            planned[entry.relpath] = Planned(entry=entry)
            output_sha = None
            encoding = "utf-8"
            if summary is None and not entry.folder and not entry.symlink:
                copied[entry.relpath] = keep.record(entry, request.config.link_threshold)
        if summary is not None:
            manifest_files[entry.relpath] = {
                "input": files.sha256(entry.path.read_bytes()),
                "output": output_sha,
                "encoding": encoding,
                "vaccinated": summary.vaccinated,
                "skipped": [list(s) for s in summary.skipped],
                "decisions": [list(d) for d in summary.decisions],
                "error": summary.error,
            }
    for path in sorted(RUNTIME_SOURCES.glob("*.py")):
        planned[f"{layout.SHIM_PACKAGE}/{path.name}"] = Planned(data=path.read_bytes())
    planned[f"{layout.SHIM_PACKAGE}/daifu_compat.py"] = Planned(data=DAIFU_MARKER_SOURCE.read_bytes())
    for folder, depth in _shim_forwarders(summaries):
        planned[f"{folder}/{layout.SHIM_PACKAGE}.py"] = Planned(data=_forwarder(depth))
    planned[".daifu/config.json"] = Planned(data=_json({"runtime": request.config.runtime}))
    planned[".daifu/patches/README.txt"] = Planned(data=_PATCHES_README.encode())
    planned[MANIFEST] = Planned(
        data=_json(
            {
                "daifu": __version__,
                "source": str(request.source.resolve()),
                "fingerprint": request.fingerprint(),
                "config": asdict(request.config),
                "files": manifest_files,
                "copied": copied,
            }
        )
    )
    return dict(sorted(planned.items()))


_PATCHES_README = """\
Action snippets for a waiting run: a Python file saved here runs with the crashed function's
variables (and the module's globals), then the failing statement is retried. Assignments change
the variables; `daifu.skip()` skips the failing statement, `daifu.give_up()` lets the crash
propagate. Every waiting process (each rank of a distributed job) applies a snippet once; one
saved before a process started waiting is not applied to it (save it again to reuse it).
Outcomes are in ../log.jsonl and `daifu status`.
"""


def _decoded(data: bytes, encoding: str) -> str:
    """An output file's text as the pipeline wrote it (``\\n`` line endings, no BOM)."""
    text = data.decode(encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _shim_forwarders(summaries: dict[str, FileSummary]) -> list[tuple[str, int]]:
    """Folders that can be on ``sys.path`` (a script's folder, a ``src/`` root) other than the
    output root, each needing a forwarder to the shim; with their depth below the root."""
    package_dirs = {s.rsplit("/", 1)[0] for s in summaries if s.endswith("/__init__.py")}
    folders = set()
    for relpath, summary in summaries.items():
        if not summary.vaccinated or "/" not in relpath:
            continue
        folder = relpath.rsplit("/", 1)[0]
        while folder in package_dirs and "/" in folder:
            folder = folder.rsplit("/", 1)[0]
        if folder in package_dirs:  # a top-level package: imported from the root
            continue
        folders.add(folder)
    return sorted((f, f.count("/") + 1) for f in folders)


def _forwarder(depth: int) -> bytes:
    return f'''"""daifu: lets vaccinated code in this folder find the runtime shim at the output root."""

import importlib.util as _util
import os as _os
import sys as _sys

_root = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), {'"..", ' * depth}"{layout.SHIM_PACKAGE}")
_spec = _util.spec_from_file_location(
    "{layout.SHIM_PACKAGE}", _os.path.join(_root, "__init__.py"), submodule_search_locations=[_root]
)
_module = _util.module_from_spec(_spec)
_sys.modules["{layout.SHIM_PACKAGE}"] = _module
_spec.loader.exec_module(_module)
'''.encode()


# -- writing -------------------------------------------------------------------------------


def _build_and_swap(request: Request, planned: dict[str, Planned], outcome: Outcome) -> None:
    output = request.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.daifu-tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    previous = _read_manifest(output) if (output / MANIFEST).is_file() else None
    kept = keep.written_by_runs(output, previous, request.source) if previous is not None else []
    outcome.kept = kept
    outcome.kept_over_project = [k for k in kept if k in planned]
    running = bool(previous is not None and keep.live_runs(output))
    try:
        _write_tree(staging, planned, request.config.link_threshold, outcome)
        _set_modes(staging, request.source)
        if running:  # (--replace-running) their working folder must stay the same folder
            _update_in_place(staging, output, kept, previous or {}, planned)
        else:
            _swap_into_place(staging, output, kept)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_tree(root: Path, planned: dict[str, Planned], threshold: int | None, outcome: Outcome) -> None:
    for relpath, item in planned.items():
        target = root / relpath
        if item.data is not None:
            files.write_bytes(target, item.data, item.entry.path if item.entry else None)
        elif item.entry is not None:
            how = files.place(item.entry, target, threshold)
            if how == "folder":
                continue
            if how == "linked":
                outcome.linked += 1
                outcome.linked_bytes += item.entry.size
            else:
                outcome.copied += 1


def _set_modes(root: Path, source: Path) -> None:
    """Modes that do not depend on the umask: the output folder gets the project folder's
    mode (copied folders and files already have theirs); daifu's own files are writable by
    their owner only (another user who could change the shim or the line maps could run code
    in the training process); the folders of run state are owner-only."""
    shutil.copymode(source, root)
    for name in trust.PRIVATE_DIRS:
        trust.private_dir(root / ".daifu" / name)
    generated = [root / ".daifu", root / layout.SHIM_PACKAGE, *root.rglob(f"{layout.SHIM_PACKAGE}.py")]
    for top in generated:
        for path in [top, *(top.rglob("*") if top.is_dir() else [])]:
            mode = path.stat().st_mode
            if path.is_dir() and path.name in trust.PRIVATE_DIRS and path.parent.name == ".daifu":
                continue
            os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IWGRP | stat.S_IWOTH))


def _update_in_place(staging: Path, output: Path, kept: list[str], previous: dict[str, Any], planned: dict[str, Planned]) -> None:
    """Replace an output that live runs use file by file (each file atomically), keeping the
    folder itself: a run's working folder is the output, and a swapped-away folder would leave
    it writing into a deleted one. Files the runs wrote stay; files the last vaccination placed
    that the new one does not are removed."""
    keep_set = set(kept)
    for folder, _, names in os.walk(staging):
        base = Path(folder)
        for name in names:
            relpath = (base / name).relative_to(staging).as_posix()
            if relpath in keep_set:
                continue
            target = output / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(base / name, target)
    stale = [*previous.get("files", {}), *previous.get("copied", {})]
    for relpath in stale:
        if relpath not in planned and relpath not in keep_set:
            try:
                (output / relpath).unlink()
            except FileNotFoundError:
                pass


def _swap_into_place(staging: Path, output: Path, kept: list[str]) -> None:
    """Move the new tree into place; the files runs wrote into the old one (*kept*) move
    into the new one, over what the project would have put there, before the old tree goes."""
    if not output.exists():
        os.rename(staging, output)
        return
    old = output.parent / f".{output.name}.daifu-old-{os.getpid()}"
    os.rename(output, old)
    try:
        os.rename(staging, output)
    except OSError:
        os.rename(old, output)
        raise
    for relpath in kept:
        target = output / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # the project now has a folder where the run wrote a file
        os.replace(old / relpath, target)
    shutil.rmtree(old, ignore_errors=True)


def _read_manifest(output: Path) -> dict[str, Any]:
    try:
        data = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- comparing (--check / --diff) ------------------------------------------------------------

_RUNTIME_STATE = (".daifu/run/", ".daifu/log.jsonl", ".daifu/patches/")


def _compare(request: Request, planned: dict[str, Planned], outcome: Outcome) -> None:
    output = request.output
    for relpath, item in planned.items():
        target = output / relpath
        expected = item.data
        if expected is None and item.entry is not None:
            if item.entry.folder:
                if not target.is_dir():
                    outcome.changed.append(f"{relpath}/")
                continue
            if target.exists() and not item.entry.symlink and target.stat().st_size == item.entry.size:
                if files.file_sha256(target) == files.file_sha256(item.entry.path):
                    continue
            elif item.entry.symlink and target.is_symlink():
                continue
            outcome.changed.append(relpath)
            continue
        try:
            current = target.read_bytes()
        except OSError:
            current = None
        if current == expected:
            continue
        if relpath.startswith(".daifu/patches/"):
            continue
        outcome.changed.append(relpath)
        if request.mode == "diff" and expected is not None and relpath.endswith(".py"):
            outcome.diffs.append(_diff(relpath, current, expected))
    if output.is_dir():
        existing = {
            p.relative_to(output).as_posix()
            for p in output.rglob("*")
            if p.is_file() or p.is_symlink()
        }
        extra = {
            p
            for p in existing - set(planned)
            if not p.startswith(_RUNTIME_STATE) and "__pycache__/" not in p
        }
        outcome.changed.extend(sorted(extra))


def _diff(relpath: str, current: bytes | None, expected: bytes) -> str:
    before = (current or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = expected.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(
        difflib.unified_diff(before, after, f"{relpath}\t(on disk)", f"{relpath}\t(vaccinated)")
    )
