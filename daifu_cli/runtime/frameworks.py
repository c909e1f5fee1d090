"""The training framework's own checkpoint at a crash: Lightning and the Hugging Face Trainer.

When a crash in a hook goes to waiting, the framework's trainer is on the stack: ``self`` of a
frame of ``Trainer.fit``/``Trainer.train``, or reachable from the crashed hook (a
LightningModule's ``_trainer``, a Callback's ``trainer`` argument). Its state (global step,
epoch progress, loops, optimizers, schedulers, callbacks) is saved with the framework's own
functions, in the form its own resume accepts:

* Lightning: ``trainer.save_checkpoint(path)``, a ``.ckpt`` file for ``trainer.fit(model,
  ckpt_path=path)``;
* Hugging Face: a ``checkpoint-<global step>`` folder (model, optimizer and scheduler, scaler,
  random generators, ``trainer_state.json``) written by the Trainer's own save functions, for
  ``trainer.train(resume_from_checkpoint=folder)``.

Only in a single-process run: in a distributed one these save functions meet the other ranks
at a barrier, which would hang a rank that crashed alone. The frameworks are never imported
here: a trainer is recognised only if its module is loaded already.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any

_LIGHTNING_TRAINERS = (("lightning.pytorch", "Trainer"), ("pytorch_lightning", "Trainer"))
_HF_TRAINERS = (("transformers", "Trainer"),)


def _classes(specs: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    found = []
    for module, name in specs:
        loaded = sys.modules.get(module)
        cls = getattr(loaded, name, None) if loaded is not None else None
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def find_trainer(frame: FrameType | None) -> tuple[str, Any] | None:
    """``("lightning" | "transformers", trainer)`` from *frame* and the frames above it."""
    lightning, hf = _classes(_LIGHTNING_TRAINERS), _classes(_HF_TRAINERS)
    if not lightning and not hf:
        return None
    while frame is not None:
        code = frame.f_code
        for name in ("self", "trainer"):
            if name not in code.co_varnames and name not in code.co_cellvars:
                continue
            value = frame.f_locals.get(name)
            # A LightningModule or Callback's trainer (read without its property, which raises
            # when detached).
            for candidate in (value, getattr(value, "_trainer", None) if value is not None else None):
                if lightning and isinstance(candidate, lightning):
                    return "lightning", candidate
                if hf and isinstance(candidate, hf):
                    return "transformers", candidate
        frame = frame.f_back
    return None


def checkpoint(frame: FrameType | None, folder: Path, stem: str) -> tuple[str, Path] | None:
    """Save the framework's checkpoint under *folder*; ``(framework, path)`` or ``None`` when
    no trainer is found. Raises what the framework raises, or ``RuntimeError`` with the reason
    it was not saved."""
    found = find_trainer(frame)
    if found is None:
        return None
    kind, trainer = found
    if kind == "lightning":
        if getattr(trainer, "world_size", 1) != 1:
            raise RuntimeError(f"not saved: Lightning runs {trainer.world_size} processes (a save waits for all of them)")
        target = folder / f"{stem}.lightning.ckpt"
        trainer.save_checkpoint(str(target))
        return kind, target
    args = trainer.args
    if getattr(args, "world_size", 1) != 1:
        raise RuntimeError(f"not saved: the Trainer runs {args.world_size} processes (a save waits for all of them)")
    target = folder / f"{stem}-hf" / f"checkpoint-{trainer.state.global_step}"
    target.mkdir(parents=True, exist_ok=True)
    out = str(target)
    trainer.save_model(out, _internal_call=True)
    if not getattr(args, "save_only_model", False):
        trainer._save_optimizer_and_scheduler(out)
        if hasattr(trainer, "_save_scaler"):
            trainer._save_scaler(out)
        trainer._save_rng_state(out)
    trainer.state.save_to_json(os.path.join(out, "trainer_state.json"))
    return kind, target
