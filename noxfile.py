"""Sessions: tests (default), lint, typecheck, package; bench and crashbench on demand.

The transpiler needs Python >= 3.10 (black does); the code it generates, and the runtime shim,
run on 3.9 to 3.13, so `tests` also runs the differential corpus under every interpreter it
finds (pyenv's, or on PATH).
"""

from __future__ import annotations

import glob
import os
import shutil

import nox

nox.needs_version = ">=2024.3"
nox.options.sessions = ["tests", "lint", "typecheck", "package"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

# pyenv keeps interpreters out of PATH unless selected: make python3.X resolvable.
_pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin")))
os.environ["PATH"] = os.pathsep.join([*_pyenv, os.environ.get("PATH", "")])

TORCH = "torch==2.13.0"  # the CPU build on this project's machines; any torch>=2.1 works
RUNTIME_PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
TRANSPILER_PYTHONS = ["3.10", "3.12", "3.13"]


def _interpreter(version: str) -> str | None:
    return shutil.which(f"python{version}")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole suite with PyTorch, plus the differential corpus on every interpreter."""
    session.install(TORCH)
    # Lightning, transformers and accelerate for tests/test_frameworks.py, torchdata for
    # tests/test_restart_data.py; torch pinned in the same resolution so they keep the CPU build.
    session.install("-e", ".[test,watch,bench,frameworks]", TORCH)
    session.install("torchft==0.2.0", TORCH)  # tests/test_distributed_in_place.py (torchft's Manager, lighthouse)
    session.run("pytest", *session.posargs)
    if not session.posargs:
        for version in RUNTIME_PYTHONS:
            python = _interpreter(version)
            if python is None or version == "3.11":
                continue
            session.run("pytest", "-q", "tests/test_differential.py", f"--target-python={python}")


@nox.session(python=TRANSPILER_PYTHONS)
def transpiler(session: nox.Session) -> None:
    """The transpiler's own tests (no PyTorch) on other Pythons."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-m", "not slow and not torch", "tests", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", "daifu_cli", "daifu", "crashbench", "experiments", "tests", "noxfile.py")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy on the package, the runtime shim and crashbench."""
    session.install("mypy==2.4.1", "-e", ".[test]")
    session.run("mypy", "daifu_cli", "daifu", "crashbench")


@nox.session(python="3.11")
def package(session: nox.Session) -> None:
    """Build the wheel, install it into a fresh environment, vaccinate and run a project."""
    session.install("build", "pytest", "pytest-timeout")
    session.run("pytest", "-q", "tests/test_wheel.py", "--run-wheel")


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Performance: overhead, restore latency, transpile throughput, import cost."""
    session.install(TORCH)
    session.install("-e", ".[bench,watch]")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python="3.11", default=False)
def crashbench(session: nox.Session) -> None:
    """The crash benchmark (`--quick` for CI's short version)."""
    session.install(TORCH)
    session.install("-e", ".[bench,watch]")
    session.run("python", "-m", "crashbench", *session.posargs)
