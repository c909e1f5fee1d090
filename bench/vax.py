"""Getting vaccinated copies of the workloads.

Where daifu is installed (with its transpiler's dependencies) the workloads are vaccinated
fresh with the code of this checkout. On a bare machine (only Python and torch, as on a lent
GPU machine) the vaccinated copies checked in under ``bench/workloads/vaccinated/`` are used,
with the runtime shim taken from ``daifu_cli/runtime/`` of this checkout (standard library only),
laid out as ``daifu vaccinate`` lays it out. Each fresh vaccination refreshes the checked-in copy
when it differs, so the two stay the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import ROOT, WORKLOADS, env_for_child, log

CHECKED_IN = WORKLOADS / "vaccinated"
STAMP = CHECKED_IN / "STAMP.json"
RUNTIME = ROOT / "daifu_cli" / "runtime"
SHIM = "_daifu_shim"
#: The workloads and what each is vaccinated with besides the default policy.
WORKLOAD_SELECT = {"train_loop.py": (), "micro.py": ("micro.py::inc_selected",), "crash_prog.py": ()}


def daifu_fingerprint() -> str:
    """A hash of the transpiler and runtime sources of this checkout (what the output depends on)."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "daifu_cli").rglob("*.py"), *(ROOT / "templates").glob("*.j2")]):
        if "demo_project" in path.parts or "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def have_daifu() -> bool:
    """Whether this interpreter can run daifu's transpiler."""
    try:
        import black  # noqa: F401
        import jinja2  # noqa: F401
        import typer  # noqa: F401

        import daifu_cli.project  # noqa: F401
    except ImportError:
        return False
    return True


def daifu_command() -> list[str]:
    return [sys.executable, "-m", "daifu_cli"]


def vaccinate(src: Path, out: Path, select: list[str] | tuple[str, ...] = (), extra: list[str] | None = None) -> None:
    """``daifu vaccinate SRC -o OUT --force -q`` in a child process."""
    cmd = [*daifu_command(), "vaccinate", str(src), "-o", str(out), "--force", "-q"]
    for item in select:
        cmd += ["--select", item]
    cmd += extra or []
    env = env_for_child()
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"daifu vaccinate failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")


def workload_pair(name: str, work: Path, select: list[str] | tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Original and vaccinated folders holding ``bench/workloads/<name>`` under *work*.

    Returns ``(original folder, vaccinated folder)``; both hold the file under its own name.
    """
    src = work / f"{Path(name).stem}_src"
    out = work / f"{Path(name).stem}_vax"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(WORKLOADS / name, src / name)
    if out.exists():
        shutil.rmtree(out)
    if have_daifu():
        vaccinate(src, out, select)
        _refresh_checked_in(name, (out / name).read_text(encoding="utf-8"))
    else:
        standalone_output(CHECKED_IN / name, out)
    return src, out


def standalone_output(vaccinated_file: Path, out: Path) -> None:
    """An output folder made without daifu: the checked-in vaccinated file, the shim from this
    checkout's runtime, and an empty ``.daifu/`` (the layout ``daifu vaccinate`` writes)."""
    if not vaccinated_file.is_file():
        raise RuntimeError(f"{vaccinated_file} is missing: run `python -m bench.vax` where daifu is installed")
    try:
        stamp = json.loads(STAMP.read_text(encoding="utf-8")).get("daifu_fingerprint")
    except (OSError, ValueError):
        stamp = None
    if stamp != daifu_fingerprint():
        log(f"warning: {CHECKED_IN} was made from other daifu sources than this checkout's; if the "
            "vaccinated workload fails against this runtime, run `python -m bench.vax` where daifu is "
            "installed and commit bench/workloads/vaccinated/")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(vaccinated_file, out / vaccinated_file.name)
    shim = out / SHIM
    shim.mkdir(exist_ok=True)
    for path in sorted(RUNTIME.glob("*.py")):
        shutil.copy2(path, shim / path.name)
    for folder in ("patches", "run", "linemaps"):
        (out / ".daifu" / folder).mkdir(parents=True, exist_ok=True)
    (out / ".daifu" / "config.json").write_text(json.dumps({"runtime": {}}) + "\n")


def _write(target: Path, text: str) -> None:
    try:
        if target.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _refresh_checked_in(name: str, text: str) -> None:
    _write(CHECKED_IN / name, text)
    current = all(
        (CHECKED_IN / other).is_file() for other in WORKLOAD_SELECT
    )
    if current and name == "train_loop.py":  # the copy the bare GPU run depends on
        _write(STAMP, json.dumps({"daifu_fingerprint": daifu_fingerprint(),
                                  "note": "written by bench/vax.py with the vaccinated copies"}, indent=1) + "\n")


def refresh_all() -> None:
    """Vaccinate every workload with this checkout's daifu and update the checked-in copies."""
    if not have_daifu():
        raise SystemExit("daifu's transpiler is not installed here")
    with tempfile.TemporaryDirectory(prefix="daifu-bench-vax-") as tmp:
        for name, select in WORKLOAD_SELECT.items():
            workload_pair(name, Path(tmp), select)
            log(f"refreshed {CHECKED_IN / name}")


if __name__ == "__main__":
    refresh_all()
