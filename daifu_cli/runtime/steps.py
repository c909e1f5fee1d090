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

It also notes how many batches each live ``DataLoader`` iterator had yielded at the step
(:data:`yielded_at_step`): with gradient accumulation across iterations of the step loop
(``no_sync`` on all but every k-th batch), the step done again starts at the first batch
after the previous step, not at the failing iteration's, or the gradients of the batches
between are lost (:func:`batches_since_step`).
"""

from __future__ import annotations

import os
import sys

from . import loaders, on_import, rankrng

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.optim.optimizer"

#: Optimizer steps this process applied (every optimizer counts), plus the count it resumed at.
count = 0
#: The random state right after the last step: torch's CPU generator.
rng_after_step: dict[str, Any] | None = None
#: Weak references to the live DataLoader iterators at the last step -> batches each had yielded.
yielded_at_step: dict[Any, int] = {}
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
    _mark_loaders()
    if _keep:
        rankrng.publish(count, rng_after_step["torch"])


def _mark_loaders() -> None:
    """Note each live DataLoader iterator's position (those :mod:`.loaders` recorded the start
    of: the ones a job checkpoint can save). About a microsecond for one or two iterators."""
    global yielded_at_step
    starts = loaders._starts
    if starts is None:
        return
    marks = {}
    for ref in tuple(starts.data):  # weak references, keys of the WeakKeyDictionary
        iterator = ref()
        if iterator is not None:
            marks[ref] = getattr(iterator, "_num_yielded", 0)
    yielded_at_step = marks


def batches_since_step(iterator: Any) -> int | None:
    """How many batches the DataLoader *iterator* yielded since the last optimizer step (the
    current one included), or ``None`` when it did not exist then (a new epoch's iterator:
    its batches so far are all since the step, as far as this iterator can tell)."""
    import weakref

    yielded = getattr(iterator, "_num_yielded", None)
    if yielded is None:
        return None
    try:
        before = yielded_at_step.get(weakref.ref(iterator))  # equal to the key while alive
    except TypeError:
        return None
    return None if before is None else yielded - before


def _register(module: Any) -> None:
    register = getattr(module, "register_optimizer_step_post_hook", None)
    if register is None:  # found half imported (a vaccinated module torch's import started)
        return
    register(_after_step)


