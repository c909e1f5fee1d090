"""Just-in-time checkpoint: save the training state at the crash, before waiting.

If the wait ends badly (the user gives up, the maximum wait passes, the machine is lost),
a restart needs a checkpoint; periodic ones lose everything since the last save. Just-in-time
checkpointing (Gupta et al., EuroSys'24) takes one when the failure happens instead: most
failures strike in the forward or backward pass, before the optimizer step, so the live
parameters and optimizer state are those at the start of the failed minibatch, and a restart
replays at most that minibatch.

On each crash that goes to waiting, the runtime saves the ``state_dict`` of every module,
optimizer, learning-rate scheduler and gradient scaler among the crashed function's variables
and its module's globals (a training loop in a function often drives a model and optimizer
defined at module level, or reached through helpers it calls), the random number generators,
and the plain numbers (step counters: the function's, and the module globals it names) to
``.daifu/jit/<pid>-<n>.pt``, atomically, each under its variable's name. When a process
checkpoint is written at the same crash, this is its payload too (the JIT view's keys beside
the frames', one write of the tensors: :func:`view`). Load it with
:func:`load` in a restarted program. Off with ``jit-checkpoint = false`` in
``[tool.daifu.runtime]``; skipped when torch is not imported. When torch is imported but
nothing could be saved, :class:`NotSaved` says why (the crash report and the log show it).

In a data-parallel job the surviving replicas hold the same parameters; a replica-based design
(SWIFT, JIT's multi-GPU mode) would take the state from a healthy rank and undo a partially
applied optimizer step. The hook point for that is :func:`view`'s caller in the session
(``on intercept``): it receives the whole context.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import trust
from .context import Context
from .layout import is_generated_name

_STATEFUL = ("Module", "Optimizer", "LRScheduler", "_LRScheduler", "GradScaler", "ReduceLROnPlateau")


def _kind(value: Any) -> str | None:
    names = {cls.__name__ for cls in type(value).__mro__}
    for kind in _STATEFUL:
        if kind in names and hasattr(value, "state_dict"):
            return kind
    return None


class NotSaved(Exception):
    """Nothing was checkpointed; the message says why."""


@dataclass
class Saved:
    path: Path
    seconds: float
    size: int
    #: Names of the saved state dicts (the variables that held the objects).
    states: list[str]


def _candidates(ctx: Context, named: frozenset[str]) -> Iterator[tuple[str, Any, bool]]:
    """``(name, value, numbers too)`` for the crashed function's variables, then (for a
    function) the module's globals that no variable shadows; of globals, only those the
    function names count as its numbers (a module's other numbers are constants)."""
    seen = set()
    for name in ctx.user_names():
        try:
            value = ctx.get(name)
        except KeyError:
            continue
        seen.add(name)
        yield name, value, True
    if ctx.script:
        return  # the script's variables are the module's globals
    for name, value in list(ctx.globals.items()):
        if name not in seen and not name.startswith("__") and not is_generated_name(name):
            yield name, value, name in named


def collect(ctx: Context, named: frozenset[str] = frozenset()) -> dict[str, Any]:
    """State dicts and numbers reachable from the crashed function's variables and module
    globals (*named*: the globals the function's code names)."""
    states: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    failed: dict[str, str] = {}
    done: set[int] = set()
    for name, value, with_numbers in _candidates(ctx, named):
        kind = _kind(value)
        if kind is not None:
            if id(value) in done:
                continue  # one object under two names (``net = model``): saved once
            try:
                states[name] = {"kind": kind, "state": value.state_dict()}
                done.add(id(value))
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
        elif with_numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[name] = value
    return {"states": states, "numbers": numbers, "failed": failed}


def view(ctx: Context, named: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What the JIT checkpoint holds (state dicts, numbers, random generators); raises
    :class:`NotSaved` when there is nothing to save. The session stores it inside the process
    checkpoint's payload when there is one (the state dicts' tensors are the frames' tensors:
    written once), else alone with :func:`write`."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        raise NotSaved("torch is not imported")
    payload = collect(ctx, named)
    failed = payload.pop("failed")
    if not payload["states"]:
        where = "its variables" if ctx.script else "its variables or its module's globals"
        if failed:
            raise NotSaved(
                "state_dict() failed for " + "; ".join(f"{n} ({why})" for n, why in failed.items())
            )
        raise NotSaved(f"no module, optimizer, scheduler or scaler among {where}")
    payload["rng"] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        if torch.cuda.is_available():
            payload["rng"]["cuda"] = torch.cuda.get_rng_state_all()
    except Exception:
        pass
    return payload


def write(payload: dict[str, Any], home: Path, label: str) -> Saved:
    """The JIT checkpoint alone (no process checkpoint could be written)."""
    from . import payload as payload_file

    started = time.perf_counter()
    payload["label"] = label
    folder = trust.private_dir(home / "jit")
    target = folder / f"{os.getpid()}-{label}.pt"
    # owner-only: it holds the model, and loading it runs pickle
    payload_file.snapshot(payload, copy=False).write(target)
    return Saved(target, time.perf_counter() - started, target.stat().st_size, list(payload["states"]))


def load_hint(saved: Saved) -> str:
    """How a restarted program loads *saved*, with the names it was saved under."""
    objects = ", ".join(f"{name}={name}" for name in saved.states)
    return f"_daifu_shim.jit.load(path, {objects})"


def load(path: str | os.PathLike[str], **objects: Any) -> dict[str, Any]:
    """Restore a JIT checkpoint into *objects* (``net=net, opt=opt``: the names the objects
    were saved under, those of the variables or globals that held them, which the crash
    report's hint lists); returns the saved numbers (step counters)."""
    import torch

    # The file may also be a process checkpoint's payload, whose frames hold objects of the
    # crashed program's own classes: a loading program without them gets stand-ins there.
    payload = torch.load(path, weights_only=False, pickle_module=_lenient)
    for name, obj in objects.items():
        obj.load_state_dict(payload["states"][name]["state"])
    random.setstate(payload["rng"]["python"])
    torch.set_rng_state(payload["rng"]["torch"])
    if "cuda" in payload["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["rng"]["cuda"])
    return dict(payload["numbers"])


class _Missing:
    """Stands for an object whose class the loading program does not have."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return _Missing


_lenient = types.SimpleNamespace(Unpickler=_LenientUnpickler, load=lambda f, **kw: _LenientUnpickler(f, **kw).load(),
                                 __name__="pickle")
