#!/usr/bin/env bash
# Run the tests on a fresh machine: a virtual environment with nox, then nox's default sessions
# (tests, lint, typecheck, package). Extra arguments go to nox (e.g. `-s tests -- -k golden`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-nox
.venv-nox/bin/python -m pip install -q --upgrade pip
.venv-nox/bin/python -m pip install -q "nox>=2024.3"
exec .venv-nox/bin/nox "$@"
