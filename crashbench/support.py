"""Support code every crashbench case imports as ``cb_support`` (the harness copies this file
next to the case's program). It only uses the standard library and torch.

* :func:`step` marks the start of a training step (for restore timing) on stderr;
* :class:`Checkpointer` saves model/optimizer/RNG state every ``CB_CHECKPOINT_EVERY`` steps
  (off unless that variable is set) and restores the latest on start: the checkpoint-retry
  baseline, with CheckFreq's two phases (snapshot to memory, then an atomic write);
* :func:`final` prints the result line the harness compares across strategies.

Cases keep their data a deterministic function of the step (synthetic data), so a restart from
a checkpoint replays exactly what the original run would have done.
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from typing import Any

CHECKPOINT_EVERY = int(os.environ.get("CB_CHECKPOINT_EVERY", "0") or 0)
CHECKPOINT_PATH = os.environ.get("CB_CHECKPOINT", "cb_checkpoint.pt")
_MARKS = os.environ.get("CB_MARKS", "1") != "0"


def step(number: int) -> None:
    """Call at the start of every training step."""
    if _MARKS:
        sys.stderr.write(f"CB step {number} {time.time():.6f}\n")
        sys.stderr.flush()


class Checkpointer:
    """Periodic checkpoints of objects with ``state_dict``/``load_state_dict``."""

    def __init__(self, **objects: Any) -> None:
        self.objects = objects
        self.extra: dict[str, Any] = {}

    @property
    def enabled(self) -> bool:
        return CHECKPOINT_EVERY > 0

    def restore(self) -> int:
        """Load the latest checkpoint; returns the step to start from (0 without one)."""
        if not self.enabled or not os.path.exists(CHECKPOINT_PATH):
            return 0
        import torch

        state = torch.load(CHECKPOINT_PATH, weights_only=False)
        for name, obj in self.objects.items():
            obj.load_state_dict(state["objects"][name])
        self.extra = state["extra"]
        _set_rng(state["rng"])
        sys.stderr.write(f"CB restored step {state['step']} {time.time():.6f}\n")
        return int(state["step"])

    def save_if_due(self, next_step: int) -> None:
        """Call after a step completes, with the number of the next step."""
        if not self.enabled or next_step % CHECKPOINT_EVERY:
            return
        import torch

        snapshot = {
            "step": next_step,
            "objects": {name: obj.state_dict() for name, obj in self.objects.items()},
            "extra": self.extra,
            "rng": _get_rng(),
        }
        buffer = io.BytesIO()
        torch.save(snapshot, buffer)
        tmp = CHECKPOINT_PATH + ".tmp"
        with open(tmp, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, CHECKPOINT_PATH)


def _get_rng() -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy

        state["numpy"] = numpy.random.get_state()
    except ImportError:
        pass
    return state


def _set_rng(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy

        numpy.random.set_state(state["numpy"])


def final(**values: Any) -> None:
    """Print the result line (compared across strategies); floats with 8 decimals."""
    parts = []
    for key in sorted(values):
        value = values[key]
        parts.append(f"{key}={value:.8f}" if isinstance(value, float) else f"{key}={value}")
    print("final: " + " ".join(parts), flush=True)


def checksum(module: Any) -> float:
    """A float summarising a module's weights."""
    return float(sum(p.detach().double().sum().item() for p in module.parameters()))
