"""A script in a subfolder, run as `python scripts/train.py` (its folder first on sys.path, the
shim found through the folder's forwarder): its warnings and traceback show the user's file."""
import os
import subprocess
import sys

env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
child = subprocess.run([sys.executable, os.path.join("scripts", "train.py")], capture_output=True, text=True, env=env)
print(child.stdout, end="")
print("".join(line for line in child.stderr.splitlines(keepends=True) if not line.startswith("daifu: ")), end="")
print("exit", child.returncode)
