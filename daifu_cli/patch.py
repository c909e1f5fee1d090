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

from daifu_cli import files
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


def patch_once(source: Path, output: Path) -> list[str]:
    """Re-vaccinate the files of *source* that changed since *output* was written."""
    if not source.is_dir():
        raise PatchError(f"{source} is not a folder")
    manifest = _manifest(output)
    config = ProjectConfig(**{**manifest.get("config", {}), "select": tuple(manifest.get("config", {}).get("select", ())), "exclude": tuple(manifest.get("config", {}).get("exclude", ()))})
    request = Request(source, output, config)
    known = manifest.setdefault("files", {})
    entries, _ = files.walk(source)
    changed_python = []
    changed_other = []
    for entry in entries:
        if entry.is_python:
            data = entry.path.read_bytes()
            record = known.get(entry.relpath)
            if record is None or record.get("input") != files.sha256(data):
                changed_python.append((entry, data))
        elif not entry.symlink:
            target = output / entry.relpath
            if not target.exists() or target.stat().st_size != entry.size or files.file_sha256(target) != files.file_sha256(entry.path):
                changed_other.append(entry)
    if not changed_python and not changed_other:
        return []
    pending = output / ".daifu" / "patches" / ".pending"
    pending.parent.mkdir(parents=True, exist_ok=True)
    pending.write_text(str(time.time()))
    try:
        options = request.pipeline_options()
        for entry, data in changed_python:
            summary = _transform_one((entry.relpath, data), options)
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
            files.atomic_write(output / entry.relpath, entry.path.read_bytes(), entry.path)
        files.atomic_write(output / MANIFEST, _json(manifest))
    finally:
        pending.unlink(missing_ok=True)
    return [e.relpath for e, _ in changed_python] + [e.relpath for e in changed_other]


def watch_forever(source: Path, output: Path, interval: float, echo: Callable[[str], None]) -> None:
    """Patch on every change until interrupted."""
    _manifest(output)
    echo(f"watching {source} (Ctrl+C to stop)")
    try:
        import watchfiles

        changes = watchfiles.watch(str(source), debounce=50, step=20)
    except ImportError:
        changes = None
    try:
        changed = patch_once(source, output)
        if changed:
            echo(f"patched {', '.join(changed)}")
        while True:
            if changes is not None:
                next(changes)
            else:
                time.sleep(interval)
            changed = patch_once(source, output)
            if changed:
                echo(f"{time.strftime('%H:%M:%S')} patched {', '.join(changed)}")
    except KeyboardInterrupt:
        echo("stopped")
