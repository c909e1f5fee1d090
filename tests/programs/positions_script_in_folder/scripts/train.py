import contextlib
import warnings


def train(steps):
    for step in range(steps):
        with contextlib.nullcontext():
            warnings.warn(f"step {step}")
            if step == 1:
                raise RuntimeError("diverged")


for epoch in range(1):
    train(3)
