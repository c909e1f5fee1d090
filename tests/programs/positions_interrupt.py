"""An uncaught KeyboardInterrupt (Ctrl-C in a training loop) shows the user's file and line,
and the program still ends by SIGINT (where the modules that showing it needs are loaded, as
in a program that imports torch; else the default display shows it unmapped)."""
import ast  # noqa: F401
import bisect  # noqa: F401
import contextlib
import hashlib  # noqa: F401
import json  # noqa: F401
import traceback  # noqa: F401


def train(steps):
    for step in range(steps):
        with contextlib.nullcontext():
            print("step", step)
            if step == 2:
                raise KeyboardInterrupt


train(5)
