"""Shared test options and helpers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite the `# output` part of golden cases"
    )
    parser.addoption(
        "--run-wheel", action="store_true", help="build and install the wheel (nox -s package)"
    )
    parser.addoption(
        "--target-python",
        default=sys.executable,
        help="interpreter that runs the original and vaccinated programs (3.9 to 3.13)",
    )


@pytest.fixture
def target_python(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--target-python"))


def run_python(python: str, script: str, cwd: Path, timeout: float = 120, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a script in a fresh interpreter, with daifu's waiting off unless asked."""
    full_env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "DAIFU_CONSOLE": "off",
        "DAIFU_WAIT": "0",  # a crash propagates at once, as without daifu
        "DAIFU_POLICIES": "0",  # and is not retried: the comparison is of plain semantics
        **(env or {}),
    }
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(
        [python, script], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs
    )


requires_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs PyTorch")
