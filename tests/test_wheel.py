"""The built wheel works on its own: templates and the runtime shim travel inside it.

Builds the wheel, installs it into a fresh virtual environment (no PyTorch, no checkout on
sys.path), vaccinates a small project with the installed `daifu`, and runs the output with
that environment's Python. Runs with `--run-wheel` (the `package` nox session).
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """\
import os

def train(n):
    total = 0
    for i in range(n):
        with open(os.devnull):
            total += i
    return total

print("total", train(5))
"""


@pytest.fixture
def wheel_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not request.config.getoption("--run-wheel"):
        pytest.skip("needs --run-wheel")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    wheels = list(dist.glob("daifu-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = tmp_path_factory.mktemp("env")
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheels[0])], check=True, capture_output=True, text=True)
    return env_dir


def test_installed_wheel_vaccinates_and_the_output_runs(wheel_env: Path, tmp_path: Path) -> None:
    daifu = wheel_env / "bin" / "daifu"
    python = wheel_env / "bin" / "python"
    src = tmp_path / "proj"
    src.mkdir()
    (src / "main.py").write_text(PROGRAM)
    version = subprocess.run([str(daifu), "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert version.stdout.startswith("daifu "), version.stderr
    result = subprocess.run(
        [str(daifu), "vaccinate", str(src), "-o", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "main.py").read_text()
    assert "def _daifu_with_L6():" in text and "# daifu cell:" in text
    run = subprocess.run([str(python), "main.py"], cwd=tmp_path / "out", capture_output=True, text=True)
    assert run.stdout == "total 10\n", run.stderr
    check = subprocess.run(
        [str(daifu), "vaccinate", str(src), "-o", str(tmp_path / "out"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
