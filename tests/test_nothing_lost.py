"""Nothing a run wrote into its output is overwritten or deleted: not by `daifu patch`, not
by a re-vaccination (`--force`), which also refuses to replace an output live runs use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from daifu_cli.cli import app
from tests.recovery import Run

runner = CliRunner()

SAVES_NEXT_TO_ITSELF = """\
import json
import sys

config = open("config.yaml").read().strip()
for step in range(3):
    pass
open("ckpt.txt", "w").write(f"run state after step {step}")
open("model.pt", "wb").write(b"weights")
print("trained with", config)
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def project(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "proj"
    src.mkdir()
    (src / "train.py").write_text(SAVES_NEXT_TO_ITSELF)
    (src / "config.yaml").write_text("lr: 0.1\n")
    (src / "ckpt.txt").write_text("initial\n")
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    result = subprocess.run([sys.executable, "train.py"], cwd=out, capture_output=True, text=True)
    assert result.stdout == "trained with lr: 0.1\n", result.stderr
    return src, out


def test_patch_brings_only_what_the_person_changed_and_never_replaces_a_run_file(tmp_path: Path) -> None:
    src, out = project(tmp_path)
    (src / "train.py").write_text(SAVES_NEXT_TO_ITSELF.replace("range(3)", "range(4)"))
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0 and "patched train.py" in output and "ckpt.txt" not in output, output
    assert (out / "ckpt.txt").read_text() == "run state after step 2"
    assert (out / "model.pt").read_bytes() == b"weights"
    # a project file the person changed comes over; one the run changed too stays the run's
    (src / "config.yaml").write_text("lr: 0.2\n")
    (src / "ckpt.txt").write_text("edited by hand\n")
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0, output
    assert "patched config.yaml" in output
    assert "kept ckpt.txt: a run changed it in the output" in output
    assert (out / "config.yaml").read_text() == "lr: 0.2\n"
    assert (out / "ckpt.txt").read_text() == "run state after step 2"
    # the output stays consistent: the next patch has nothing to bring
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0 and "patched" not in output, output


def test_revaccination_keeps_what_runs_wrote(tmp_path: Path) -> None:
    src, out = project(tmp_path)
    (out / ".daifu" / "jit").mkdir(exist_ok=True)
    (out / ".daifu" / "jit" / "crash-1.pt").write_bytes(b"checkpoint")
    (out / ".daifu" / "log.jsonl").write_text('{"event": "crash"}\n')
    (out / ".daifu" / "patches" / "fix.py").write_text("lr = 0.5\n")
    (src / "config.yaml").write_text("lr: 0.3\n")
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--force")
    assert code == 0, output
    assert "kept ckpt.txt: a run changed it in the output" in output
    assert (out / "ckpt.txt").read_text() == "run state after step 2"
    assert (out / "model.pt").read_bytes() == b"weights"
    assert (out / ".daifu" / "jit" / "crash-1.pt").read_bytes() == b"checkpoint"
    assert (out / ".daifu" / "log.jsonl").read_text() == '{"event": "crash"}\n'
    assert (out / ".daifu" / "patches" / "fix.py").read_text() == "lr = 0.5\n"
    assert (out / "config.yaml").read_text() == "lr: 0.3\n"  # the project's own files are updated
    # a project file deleted from the project, untouched by runs, goes with the old output
    (src / "config.yaml").unlink()
    assert invoke("vaccinate", str(src), "-o", str(out), "--force")[0] == 0
    assert not (out / "config.yaml").exists() and (out / "model.pt").exists()


def test_revaccination_refuses_an_output_that_live_runs_use(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": "for i in range(3):\n    x = 1 / (i - 1)\nopen('after.txt', 'w').write('ok')\n"}).start()
    try:
        state = run.wait_waiting()
        code, output = invoke("vaccinate", str(run.src), "-o", str(run.out), "--force")
        assert code == 2, output
        assert f"pid {state['pid']} (waiting)" in output and "--replace-running" in output
        assert (run.out / ".daifu" / "run" / f"{state['pid']}.json").is_file()
        code, output = invoke("vaccinate", str(run.src), "-o", str(run.out), "--force", "--replace-running")
        assert code == 0, output
        # the waiting run is still known to `daifu status`, and its log is whole
        assert (run.out / ".daifu" / "run" / f"{state['pid']}.json").is_file()
        assert any(e["event"] == "crash" for e in run.events())
        run.snippet("daifu.skip()\n")
        code, _, err = run.finish(timeout=60)
        assert code == 0, err
        # the run's working folder stayed the output: what it wrote afterwards is there
        assert (run.out / "after.txt").read_text() == "ok"
    finally:
        run.kill()
    assert os.listdir(run.out / ".daifu" / "run")
