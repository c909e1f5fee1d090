"""Just-in-time checkpoint: save the training state at the crash, before waiting.

If the wait ends badly (the user gives up, the maximum wait passes, the machine is lost),
a restart needs a checkpoint; periodic ones lose everything since the last save. Just-in-time
checkpointing (Gupta et al., EuroSys'24) takes one when the failure happens instead: most
failures strike in the forward or backward pass, before the optimizer step, so the live
parameters and optimizer state are those at the start of the failed minibatch, and a restart
replays at most that minibatch.

On each crash that goes to waiting, the runtime saves the ``state_dict`` of every module,
optimizer, learning-rate scheduler and gradient scaler among the crashed function's variables
(and the module's globals, for script-level code), the random number generators, and the
plain numbers (step counters) to ``.daifu/jit/<pid>-<n>.pt``, atomically. Load it with
:func:`load` in a restarted program. Off with ``jit-checkpoint = false`` in
``[tool.daifu.runtime]``; skipped when torch is not imported.

In a data-parallel job the surviving replicas hold the same parameters; a replica-based design
(SWIFT, JIT's multi-GPU mode) would take the state from a healthy rank and undo a partially
applied optimizer step. The hook point for that is :func:`checkpoint`'s caller in the session
(``on intercept``): it receives the whole context.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from . import trust
from .context import Context

_STATEFUL = ("Module", "Optimizer", "LRScheduler", "_LRScheduler", "GradScaler", "ReduceLROnPlateau")


def _kind(value: Any) -> str | None:
    names = {cls.__name__ for cls in type(value).__mro__}
    for kind in _STATEFUL:
        if kind in names and hasattr(value, "state_dict"):
            return kind
    return None


def collect(ctx: Context) -> dict[str, Any]:
    """State dicts and numbers reachable from the crashed function's variables."""
    states: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    names = ctx.user_names()
    for name in names:
        try:
            value = ctx.get(name)
        except KeyError:
            continue
        kind = _kind(value)
        if kind is not None:
            try:
                states[name] = {"kind": kind, "state": value.state_dict()}
            except Exception:
                continue
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[name] = value
    return {"states": states, "numbers": numbers}


def checkpoint(ctx: Context, home: Path, label: str) -> tuple[Path, float, int] | None:
    """Write the JIT checkpoint; returns (path, seconds, bytes) or ``None`` without torch."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return None
    started = time.perf_counter()
    payload = collect(ctx)
    if not payload["states"]:
        return None
    payload["rng"] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        if torch.cuda.is_available():
            payload["rng"]["cuda"] = torch.cuda.get_rng_state_all()
    except Exception:
        pass
    payload["label"] = label
    folder = trust.private_dir(home / "jit")
    target = folder / f"{os.getpid()}-{label}.pt"
    tmp = target.with_suffix(".tmp")
    with os.fdopen(trust.open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        torch.save(payload, handle)  # owner-only: it holds the model, and loading it runs pickle
    os.replace(tmp, target)
    return target, time.perf_counter() - started, target.stat().st_size


def load(path: str | os.PathLike[str], **objects: Any) -> dict[str, Any]:
    """Restore a JIT checkpoint into *objects* (``model=model, optimizer=opt``: the names of
    the crashed function's variables); returns the saved numbers (step counters)."""
    import torch

    payload = torch.load(path, weights_only=False)
    for name, obj in objects.items():
        obj.load_state_dict(payload["states"][name]["state"])
    random.setstate(payload["rng"]["python"])
    torch.set_rng_state(payload["rng"]["torch"])
    if "cuda" in payload["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["rng"]["cuda"])
    return dict(payload["numbers"])
