"""Optimizer steps of a torchrun worker: how many this rank applied, and its random state
right after the last one.

When a rank of the job is lost, the survivors compare these counters (:mod:`.jobcheckpoint`):
a survivor that applied an update the others did not is not the state to resume from. And a
job checkpoint that redoes the step in progress needs the random state at the step's start,
which by the time of the crash the step's forward (dropout) has moved on: the state right
after the previous optimizer step is that start, for a loop that draws nothing between its
``optimizer.step()`` and its next iteration's first statement.

Counted by torch's global optimizer step post hook (every optimizer, every ``step()``),
registered as soon as ``torch.optim.optimizer`` is imported (a ``sys.meta_path`` finder that
finds nothing itself), so every rank counts from its first step. Per step it costs one
integer and a copy of torch's CPU generator state (about 1 us, measured), which
:mod:`.rankrng` also writes to a file mapped in memory (a few us), for this rank's rebuild. Python's and
NumPy's generators are not copied (13 and 50 us a step here): a step's forward rarely draws
from them, and a loader that does (``num_workers=0``) draws before the iteration's first
statement, so the job checkpoint takes them as they are at the failure.
"""

from __future__ import annotations

import os
import sys

from . import on_import, rankrng

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.optim.optimizer"

#: Optimizer steps this process applied (every optimizer counts), plus the count it resumed at.
count = 0
#: The random state right after the last step: torch's CPU generator.
rng_after_step: dict[str, Any] | None = None
_installed = False
_pid = os.getpid()
#: Whether the state is also kept for a restarted job's rebuilt rank (:mod:`.rankrng`).
_keep = os.environ.get("DAIFU_JOB_RESUME", "1") != "0" and "RANK" in os.environ and "TORCHELASTIC_RUN_ID" in os.environ


def install() -> None:
    """Called once by the shim of a torchrun worker: count now, or when torch is imported."""
    global _installed
    if _installed:
        return
    _installed = True
    on_import.when_imported(_MODULE, _register)


def _after_step(optimizer: Any, args: Any, kwargs: Any) -> None:
    global count, rng_after_step
    if os.getpid() != _pid:  # a forked worker process steps nothing of the job's
        return
    count += 1
    rng_after_step = {"torch": sys.modules["torch"].get_rng_state()}
    if _keep:
        rankrng.publish(count, rng_after_step["torch"])


def _register(module: Any) -> None:
    register = getattr(module, "register_optimizer_step_post_hook", None)
    if register is None:  # found half imported (a vaccinated module torch's import started)
        return
    register(_after_step)


