"""In-place reductions a lost peer cut short: the tensor put back as it was before the call.

``dist.all_reduce(t)`` sums into ``t`` in place, and so does ``dist.reduce`` on its
destination. When a peer is lost during the call, gloo may already have summed part or all
of the peer's data into ``t`` before the call fails (seen: a metric that came out doubled). A
job that resumes at the failing statement (a failure after ``optimizer.step()``: a metric's
all-reduce) calls it again on ``t``: whatever the failed call had added is added again.

So a torchrun worker keeps a copy of the tensor given to each blocking in-place reduction
while the call runs (only tensors of up to :data:`LIMIT` elements: metrics and counters; a
clone of a few numbers per call), and the job checkpoint puts it back before it saves
(:func:`put_back`). DDP's gradient reduction does not go through these functions, and a
failure before the optimizer step redoes the step anyway, so the value matters only where the
job resumes at the failed call itself. There, a larger tensor (no copy kept) or an
asynchronous call (its failure surfaces at ``wait()``, later) refuses the job checkpoint with
the reason: the restart then starts over rather than resume on a tensor of unknown content.

Installed when ``torch.distributed.distributed_c10d`` is imported (before the
``torch.distributed`` package re-exports its functions, so ``dist.all_reduce`` is the
wrapper); ``DAIFU_JOB_RESUME=0`` leaves torch alone.
"""

from __future__ import annotations

import functools
import os

from . import on_import

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.distributed.distributed_c10d"
#: The largest tensor (in elements) copied before an in-place reduction: 256 KiB of float32.
LIMIT = 1 << 16
#: The in-place reductions: name -> position of ``async_op`` among the positional arguments.
_REDUCTIONS = {"all_reduce": 3, "reduce": 4}

#: The last in-place reduction that raised: (tensor, its copy or None, function, the exception).
failed: tuple[Any, Any, str, BaseException] | None = None
_pid = os.getpid()


def install() -> None:
    """The wrappers a job resume relies on: these reductions, and ``new_group`` (:mod:`.groups`)."""
    if os.environ.get("DAIFU_JOB_RESUME", "1") == "0":
        return
    from . import groups

    on_import.when_imported(_MODULE, _patch)
    on_import.when_imported(_MODULE, groups.patch)


def _patch(module: Any) -> None:
    for name, async_at in _REDUCTIONS.items():
        original = getattr(module, name, None)
        if original is None or getattr(original, "_daifu_original", None) is not None:
            continue
        setattr(module, name, _wrap(original, name, async_at))


def _wrap(original: Any, name: str, async_at: int) -> Any:
    def reduction(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        global failed
        if kwargs.get("async_op") or (len(args) >= async_at and args[async_at - 1]) or os.getpid() != _pid:
            copy = None
        else:
            try:
                copy = tensor.detach().clone() if tensor.numel() <= LIMIT else None
            except Exception:  # not a tensor: the call itself says so
                return original(tensor, *args, **kwargs)
        try:
            return original(tensor, *args, **kwargs)
        except BaseException as exc:
            failed = (tensor, copy, name, exc)
            raise

    functools.update_wrapper(reduction, original)
    reduction._daifu_original = original  # type: ignore[attr-defined]
    return reduction


def put_back(exc: BaseException) -> str | None:
    """Before a job checkpoint that resumes at the failing statement: if *exc* (or what it was
    raised from) is the failure of an in-place reduction, put its tensor back as it was before
    the call. Returns what was done, for the log; raises :class:`ValueError` with the reason
    where the tensor's earlier content is unknown."""
    if failed is None:
        return None
    tensor, copy, name, raised = failed
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if not any(item is raised for item in chain):
        return None
    if copy is None:
        raise ValueError(
            f"the failed {name}() summed into its tensor in place ({tensor.numel()} elements, or an asynchronous "
            f"call): its content before the call was not kept, so calling it again could add the peers' values twice"
        )
    tensor.detach().copy_(copy)
    return f"the tensor of the failed {name}() put back as it was before the call"
