"""``daifu demo``: the whole story on a bundled example, with real processes.

1. copy the example project and vaccinate it;
2. run the vaccinated copy: it crashes at its first evaluation, and waits;
3. fix the bug in the project's source and run ``daifu patch``, as a user would;
4. the run resumes at the failing statement and finishes;
5. run the fixed program from scratch and compare the final weights.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from daifu_cli.options import ProjectConfig
from daifu_cli.patch import patch_once
from daifu_cli.project import Request, vaccinate_project

EXAMPLE = Path(__file__).parent / "demo_project"
BUG = "logits = model(inputs.T)  # bug: the inputs are already (samples, features)"
FIX = "logits = model(inputs)"


def run_demo(workdir: Path | None, echo: Callable[[str], None]) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        echo("the demo trains a small PyTorch model: install torch first (pip install torch)")
        return 2
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="daifu-demo-"))
    project, output = base / "project", base / "project_vax"
    for folder in (project, output):
        if folder.exists():
            shutil.rmtree(folder)
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))

    echo(f"1. vaccinate {project} -> {output}")
    outcome = vaccinate_project(Request(project, output, ProjectConfig()))
    for relpath in outcome.vaccinated_files:
        echo(f"   vaccinated {relpath}: {', '.join(outcome.summaries[relpath].vaccinated)}")

    echo("2. run the vaccinated copy (it has a bug)")
    env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "train.py"], cwd=output, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stdout: list[str] = []
    threads = [
        threading.Thread(target=_pump, args=(process.stdout, stdout, echo), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, [], echo), daemon=True),
    ]
    for thread in threads:
        thread.start()
    if not _wait_for(lambda: _status(output) == "waiting" or process.poll() is not None, 120):
        process.kill()
        echo("the run did not reach the crash in time")
        return 1
    if process.poll() is not None:
        echo("the run ended without waiting for a fix")
        return 1
    crashed_after = time.perf_counter() - started

    echo(f"3. fix the bug in {project / 'train.py'} and run `daifu patch {project} -o {output}`")
    source = (project / "train.py").read_text()
    (project / "train.py").write_text(source.replace(BUG, FIX))
    echo(f"   - {BUG}\n   + {FIX}")
    echo(f"   patched: {', '.join(patch_once(project, output))}")

    echo("4. the waiting run resumes at the failing statement")
    code = process.wait(timeout=300)
    for thread in threads:
        thread.join(timeout=5)
    restore = [e["restore_ms"] for e in _events(output) if e.get("event") == "resume"]
    if code != 0:
        echo(f"the resumed run failed with exit status {code}")
        return 1

    echo("5. run the fixed program from scratch, for comparison")
    reference = subprocess.run(
        [sys.executable, "train.py"], cwd=project, capture_output=True, text=True, env=env, timeout=300
    )
    same = _last_line(reference.stdout) == _last_line("".join(stdout))
    echo(f"   from scratch: {_last_line(reference.stdout)}")
    echo(f"   resumed run:  {_last_line(''.join(stdout))}")
    echo("")
    echo(f"restore time: {restore[0]:.1f} ms from the fix landing to the failing statement running again"
         if restore else "restore time: not recorded")
    echo(f"a restart from scratch would have redone {crashed_after:.1f} s of training before reaching the same point")
    echo(f"same final weights as the fixed program run from scratch: {'yes' if same else 'NO'}")
    echo(f"files: {base}")
    return 0 if same else 1


def _pump(stream, sink: list[str], echo: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        sink.append(line)
        echo(f"   | {line.rstrip()}")


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _status(output: Path) -> str | None:
    for path in (output / ".daifu" / "run").glob("*.json"):
        try:
            return json.loads(path.read_text()).get("status")  # type: ignore[no-any-return]
        except (OSError, ValueError):
            continue
    return None


def _events(output: Path) -> list[dict]:  # type: ignore[type-arg]
    try:
        return [json.loads(line) for line in (output / ".daifu" / "log.jsonl").read_text().splitlines()]
    except (OSError, ValueError):
        return []


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
