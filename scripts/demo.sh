#!/usr/bin/env bash
# The main job on the bundled example, on a fresh machine: install daifu and PyTorch (CPU) in
# a virtual environment, then vaccinate, run, crash, fix and resume (`daifu demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-demo
.venv-demo/bin/python -m pip install -q --upgrade pip
.venv-demo/bin/python -m pip install -q "torch==2.13.0" || .venv-demo/bin/python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
.venv-demo/bin/python -m pip install -q .
exec .venv-demo/bin/daifu demo "$@"
