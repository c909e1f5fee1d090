"""An uncaught KeyboardInterrupt from a with body inside a loop: the same exit status."""
import contextlib


def train(steps):
    for step in range(steps):
        with contextlib.nullcontext():
            print("step", step)
            if step == 2:
                raise KeyboardInterrupt


train(5)
