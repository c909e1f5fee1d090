"""``daifu patch``: bring an existing output up to date with the project, in place.

Only files whose content changed are re-vaccinated, each written atomically; while the
files of one patch are written, ``.daifu/patches/.pending`` tells waiting runs to hold off,
so a fix spread over several files is applied as one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daifu_cli import files, keep
from daifu_cli.options import ProjectConfig
from daifu_cli.project import MANIFEST, Request, _json, _transform_one


class PatchError(Exception):
    pass


def _manifest(output: Path) -> dict[str, Any]:
    try:
        data = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PatchError(f"{output} is not a daifu output (no {MANIFEST}); run `daifu vaccinate` first") from None
    return data  # type: ignore[no-any-return]


class Patched(list):  # type: ignore[type-arg]
    """The files a patch wrote (a list of relative paths), and what it would not write."""

    def __init__(self, written: list[str], kept: list[str], errors: list[tuple[str, int, str]] | None = None) -> None:
        super().__init__(written)
        #: Project files changed since the vaccination whose output copy a run changed too:
        #: the run's file stays, the project's copy is not placed.
        self.kept = kept
        #: Python files that cannot be vaccinated (a syntax error): ``(relpath, line,
        #: message)``; not written, so a waiting run keeps waiting for a good fix.
        self.errors = errors or []


def patch_once(source: Path, output: Path) -> Patched:
    """Re-vaccinate the Python files of *source* that changed since *output* was written,
    and copy the other files the person changed since then. A file of the output that a run
    wrote (or changed) is never replaced."""
    if not source.is_dir():
        raise PatchError(f"{source} is not a folder")
    manifest = _manifest(output)
    config = ProjectConfig(**{**manifest.get("config", {}), "select": tuple(manifest.get("config", {}).get("select", ())), "exclude": tuple(manifest.get("config", {}).get("exclude", ()))})
    request = Request(source, output, config)
    known = manifest.setdefault("files", {})
    copied: dict[str, Any] | None = manifest.get("copied")
    entries, _ = files.walk(source)
    changed_python = []
    changed_other: list[files.Entry] = []
    kept: list[str] = []
    for entry in entries:
        if entry.folder:
            if not (output / entry.relpath).exists():
                changed_other.append(entry)
        elif entry.is_python:
            data = entry.path.read_bytes()
            record = known.get(entry.relpath)
            if record is None or record.get("input") != files.sha256(data):
                changed_python.append((entry, data))
        elif not entry.symlink:
            verdict = _copy_verdict(entry, output / entry.relpath, copied)
            if verdict == "copy":
                changed_other.append(entry)
            elif verdict == "kept":
                kept.append(entry.relpath)
    # The hooks of the whole project, as `daifu vaccinate` finds them: a changed file is
    # selected as it would be by a fresh vaccination.
    options = request.with_hooks(entries).pipeline_options()
    transformed = []
    errors: list[tuple[str, int, str]] = []
    for entry, data in changed_python:
        summary = _transform_one((entry.relpath, data), options)
        if summary.error is not None:
            errors.append((entry.relpath, summary.error_line, summary.error))
        else:
            transformed.append((entry, data, summary))
    if errors or (not transformed and not changed_other):
        # A fix spread over several files lands as one: with one of them broken, none does.
        return Patched([], kept, errors)
    pending = output / ".daifu" / "patches" / ".pending"
    pending.parent.mkdir(parents=True, exist_ok=True)
    pending.write_text(str(time.time()))
    try:
        for entry, data, summary in transformed:
            if summary.text is not None and summary.data is not None:
                encoded = summary.data
                files.atomic_write(output / entry.relpath, encoded, entry.path)
                files.atomic_write(
                    output / ".daifu" / "linemaps" / f"{entry.relpath}.json",
                    _json({
                        "source": entry.relpath,
                        "input": str(source.resolve()),
                        "sha256": files.sha256(summary.text.encode("utf-8")),
                        "lines": [list(p) for p in summary.linemap],
                        "runs": [list(r) for r in summary.runs],
                    }),
                )
                output_sha = files.sha256(encoded)
            else:
                files.atomic_write(output / entry.relpath, data, entry.path)
                output_sha = None
            known[entry.relpath] = {
                "input": files.sha256(data),
                "output": output_sha,
                "encoding": summary.encoding,
                "vaccinated": summary.vaccinated,
                "skipped": [list(s) for s in summary.skipped],
                "decisions": [list(d) for d in summary.decisions],
                "error": summary.error,
            }
        for entry in changed_other:
            if entry.folder:
                files.place(entry, output / entry.relpath, None)
                continue
            files.atomic_write(output / entry.relpath, entry.path.read_bytes(), entry.path)
            if copied is not None:
                copied[entry.relpath] = keep.record(entry, None)
        files.atomic_write(output / MANIFEST, _json(manifest))
    finally:
        pending.unlink(missing_ok=True)
    written = [e.relpath for e, _, _ in transformed] + [e.relpath + "/" * e.folder for e in changed_other]
    return Patched(written, kept, errors)


def _copy_verdict(entry: files.Entry, target: Path, copied: dict[str, Any] | None) -> str:
    """``"copy"`` (the person changed or added the file), ``"kept"`` (they did, but a run
    changed the output's copy too: it stays) or ``"same"`` (nothing to bring)."""
    if copied is None:  # an output of an older daifu, which recorded no copies
        return "copy" if not target.exists() and not target.is_symlink() else "same"
    placed = copied.get(entry.relpath)
    if placed is not None and keep.unchanged(entry.path, placed):
        return "same"  # not changed in the project since the vaccination
    if not target.exists() and not target.is_symlink():
        return "copy"
    if placed is not None and placed[1] is None:
        return "same"  # hard-linked: the output's file is the project's own
    if placed is not None and keep.unchanged(target, placed):
        return "copy"  # the output still holds what was placed
    if keep.unchanged(target, [entry.size, files.file_sha256(entry.path)]):
        return "same"  # the run wrote exactly the project's new content
    return "kept"


def watch_forever(source: Path, output: Path, interval: float, echo: Callable[[str], None]) -> None:
    """Patch on every change until interrupted."""
    _manifest(output)
    echo(f"watching {source} (Ctrl+C to stop)")
    try:
        import watchfiles

        changes = watchfiles.watch(str(source), debounce=50, step=20)
    except ImportError:
        changes = None
    told: set[str] = set()

    def tell(changed: Patched, stamp: str) -> None:
        for relpath, line, message in changed.errors:
            echo(f"{stamp}error: {relpath}:{line}: {message} (not patched; a waiting run keeps waiting)")
        for relpath in changed.kept:
            if relpath not in told:
                told.add(relpath)
                echo(f"{stamp}kept {relpath}: a run changed it in the output; the project's new copy was not placed")
        if changed:
            echo(f"{stamp}patched {', '.join(changed)}")

    try:
        tell(patch_once(source, output), "")
        while True:
            if changes is not None:
                next(changes)
            else:
                time.sleep(interval)
            tell(patch_once(source, output), time.strftime("%H:%M:%S "))
    except KeyboardInterrupt:
        echo("stopped")
