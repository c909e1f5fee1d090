"""A collective that timed out while another rank waited for a fix is not a failure: the rank
holds too, and after the fix every rank re-creates the job's process group and goes on in it.

Why re-create it: gloo closes a pair whose operation timed out for good ("Application timeout
caused pair closure"), and nothing torch offers ends a gloo operation that already waits
sooner (measured on torch 2.13: ``abort()`` of the group from another thread 1 s into a 3 s
wait, it still returned at 3 s; ``abort()`` or ``destroy_process_group()`` on the crashed peer,
even with its DDP deleted and garbage collected, closes no socket: the waiting rank still
waited its full 20 s; ``set_timeout`` applies to later operations only). So the rank holds
once its timeout ends the wait; after the fix the old group is destroyed and a new default
group is made through the job's own store under a fresh prefix (``<channel prefix>pg/<n>/``),
and the program's ``DistributedDataParallel`` is pointed at it with ``_update_process_group``,
which also resets its reducer, as torchft does when it reconfigures its process group.

Where each rank resumes, so that every rank meets the others in the same collective: the
crashed rank resumes at its failing statement as usual and reaches its next gradient
all-reduce; the rank whose all-reduce timed out re-runs that all-reduce (the backward's
gradients were all computed; only the reduction failed, and the graph is freed, so the
``backward()`` itself cannot run again) and resumes *after* its ``backward()``. The re-run goes
through DDP's own reducer (a backward from the parameters with the local gradients as seed:
the same buckets, the same division, the same all-reduce calls as the other rank's real
backward), so the averaged gradients equal those of an uninterrupted step.

What cannot be re-run that way is refused (the rank leaves the job after its checkpoint, as
before): a collective other than DDP's gradient all-reduce, a program with process groups of
its own, DDP with options that change what the reduction does or adds collectives to the
forward (:func:`_unsupported`), a ``backward()`` called by a function daifu did not vaccinate
(:func:`_not_daifus_to_skip`).
"""

from __future__ import annotations

import re
import sys
import time

from . import job

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

#: The generation of the default process group this process runs on (0: the program's own).
_generation = 0
#: The store key whose value is the generation the job wants (under the channel's prefix).
WANTED = "regroup"

#: The least time (seconds) the new group's rendezvous waits for every rank.
RENDEZVOUS = 60.0

#: A collective that timed out, or failed because its peer's side timed out and closed it.
_TIMED_OUT = re.compile(r"[Tt]imed out|[Tt]imeout|pair closure")
#: A collective that failed because the group broke under it (after another rank's timeout).
_BROKEN = re.compile(r"Connection (reset|closed) by peer|Broken pipe|pair closure|[Tt]imed out|[Tt]imeout")


class Redo:
    """The gradient all-reduce of one DDP backward, to run again in the new process group."""

    def __init__(self, ddp: Any, params: list[Any]) -> None:
        self.ddp = ddp
        self.params = params
        #: The local gradients the failed backward computed (the reducer copies them into its
        #: buckets, scaled, and writes the reduced result back only once the all-reduce is done).
        self.grads = [p.grad for p in params]

    def run(self) -> float:
        """All-reduce the saved gradients through DDP's reducer; the seconds it took."""
        import torch

        started = time.perf_counter()
        for param in self.params:
            param.grad = None
        self.ddp.reducer.prepare_for_backward([])
        # A backward whose roots are the parameters themselves: each one's AccumulateGrad sets
        # its gradient and fires the reducer's hook, as in the real backward.
        torch.autograd.backward(self.params, self.grads)
        self.grads = []
        return time.perf_counter() - started


def after_timeout(exc: BaseException, barrier: FrameType) -> Redo | str | None:
    """Whether *exc*, a failed collective that daifu's barrier in frame *barrier* caught,
    comes from the job's pause: ``None`` if not (a peer is gone: the rank leaves the job); a
    :class:`Redo` if this rank can hold and re-run the collective in a new process group; a
    reason it cannot, otherwise."""
    channel = job.channel()
    if channel is None or channel.store is None:
        return None
    text = str(exc)
    try:
        channel.refresh()
        wanted = _wanted(channel)
    except Exception:
        return None
    if channel.ended is not None:
        return None
    waiting = channel.others_crashed()
    if wanted > _generation:
        # The group is being re-created (another rank's collective timed out): this rank's
        # collective broke with it, whether it timed out or saw its peer close the pair.
        if _BROKEN.search(text) is None:
            return None
    elif not (waiting and _TIMED_OUT.search(text) and all(_alive(c) for c in waiting)):
        return None
    why = _unsupported(exc)
    if isinstance(why, Redo):
        why = _not_daifus_to_skip(exc, barrier) or why
    if isinstance(why, str):
        return why
    if wanted <= _generation:
        _want(channel, _generation + 1)
    return why


def _unsupported(exc: BaseException) -> Redo | str:
    """The :class:`Redo` of the DDP all-reduce *exc* broke, or why there is none."""
    dist: Any = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_initialized():
        return "the process group is gone"
    if not _in_backward(exc):
        return "the collective that failed is not the gradient all-reduce of a DDP backward()"
    groups = dist.distributed_c10d._world.pg_map
    if len(groups) != 1:
        return f"the program made process groups of its own ({len(groups) - 1}), which daifu cannot re-create"
    ddps = _ddps()
    if len(ddps) != 1:
        return f"the process holds {len(ddps)} DistributedDataParallel modules (daifu re-runs the reduction of one)"
    ddp = ddps[0]
    if ddp.process_group is not dist.group.WORLD:
        return "DistributedDataParallel reduces over a group of its own"
    options = {
        "find_unused_parameters=True": ddp.find_unused_parameters,
        "static_graph=True": ddp.static_graph,
        # the gradients are views of the buckets the failed all-reduce works on in place
        # (divided by the world size, and with 3 ranks or more possibly reduced in part)
        "gradient_as_bucket_view=True": ddp.gradient_as_bucket_view,
        "a communication hook": bool(ddp._comm_hooks) or bool(_logged(ddp, "comm_hook")),
        "mixed precision": ddp.mixed_precision is not None,
        # a broadcast of buffers in each forward: a rank that timed out may have sent its
        # step's broadcast before the other rank crashed, which a re-run cannot match
        "buffers it broadcasts in each forward": ddp.will_sync_module_buffers(),
        "the Join context": ddp._join_config.enable,
        "the Python reducer": ddp._use_python_reducer,
        "delayed all-reduce": ddp._delay_all_reduce_all_params,
    }
    used = [name for name, on in options.items() if on]
    if used:
        return f"DistributedDataParallel runs with {', '.join(used)}"
    params = [p for p in ddp.module.parameters() if p.requires_grad]
    if any(p.grad is None for p in params):
        return "a parameter has no gradient after the failed backward()"
    return Redo(ddp, params)


def _not_daifus_to_skip(exc: BaseException, barrier: FrameType) -> str | None:
    """Why the rank could not go on right after its ``backward()``: the call was made by a
    function daifu did not vaccinate (a ``train_step()`` without a loop, not selected), whose
    frame is gone; only its caller's statement could run again, and that is the whole step
    (a new forward, and the failed backward's gradients added twice where nothing zeroes them)."""
    entries = []
    tb = exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    caught = [i for i, entry in enumerate(entries) if entry.tb_frame is barrier]
    for entry in entries[caught[-1] + 1 :] if caught else entries:  # what the statement called
        code = entry.tb_frame.f_code
        path = code.co_filename.replace("\\", "/")
        if "/torch/" not in path:
            name = getattr(code, "co_qualname", code.co_name)
            return (
                f"its backward() ran in {name}() ({path.rsplit('/', 1)[-1]}), which daifu did "
                f"not vaccinate: only there could it go on after the backward() (select it: --select FILE::{name})"
            )
    return None


def _in_backward(exc: BaseException) -> bool:
    """Whether *exc* was raised by the autograd engine (DDP's reducer waits for its
    all-reduce in the backward's final callback)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame
        tb = tb.tb_next
    if last is None:
        return False
    path = last.f_code.co_filename.replace("\\", "/")
    return "/torch/autograd/" in path or path.endswith("/torch/_tensor.py")


def _ddps() -> list[Any]:
    import gc

    from torch.nn.parallel import DistributedDataParallel

    return [o for o in gc.get_objects() if isinstance(o, DistributedDataParallel)]


def _logged(ddp: Any, key: str) -> Any:
    try:
        return ddp.logger._get_ddp_logging_data().get(key)
    except Exception:
        return None


def _alive(crash: dict[str, Any]) -> bool:
    """Whether a crashed rank still waits (its process runs): a rank killed while it waited
    is lost, not paused. Ranks of other hosts cannot be told: they count as alive."""
    import socket

    if crash.get("host") != socket.gethostname():
        return True
    return job._alive(int(crash.get("pid", 0)))


# -- the job's wish, and the regroup itself -------------------------------------------------


def _wanted(channel: Any) -> int:
    with channel.lock:
        key = channel.prefix + WANTED
        if not channel.store.check([key]):
            return 0
        return int(channel.store.get(key))


def _want(channel: Any, generation: int) -> None:
    """Ask for *generation* (once: two ranks timing out together ask for the same one)."""
    with channel.lock:
        key = channel.prefix + WANTED
        expected = "" if generation == 1 else str(generation - 1)
        channel.store.compare_set(key, expected, str(generation))
    channel.changed()


def pending() -> bool:
    """Whether the job re-creates its process group and this process has not yet."""
    channel = job.channel()
    if channel is None or channel.store is None:
        return False
    try:
        return _wanted(channel) > _generation
    except Exception:
        return False


def rejoin() -> tuple[float, int]:
    """Destroy this process's default group, make the job's new one, point DDP at it.
    Every rank of the job calls this; it returns once all have (the new group's rendezvous,
    bounded by the old group's timeout or :data:`RENDEZVOUS`, the longer). Returns (seconds,
    generation); raises on failure (the session then leaves the job)."""
    global _generation
    import datetime

    import torch.distributed as dist

    channel = job.channel()
    assert channel is not None
    started = time.perf_counter()
    generation = _wanted(channel)
    old = dist.group.WORLD
    backend = dist.get_backend(old)
    timeout = _timeout(old)
    groups = dist.distributed_c10d._world.pg_map
    if len(groups) != 1:
        raise RuntimeError(f"the program made process groups of its own ({len(groups) - 1})")
    ddps = [d for d in _ddps() if d.process_group is old]
    dist.destroy_process_group()
    # The ranks arrive within moments of each other (a holding rank polls every 0.1 s), but one
    # whose old-group collective broke only as the regroup began needs up to the old timeout
    # to notice: the rendezvous waits at least RENDEZVOUS, then the group gets the program's.
    wait = datetime.timedelta(seconds=max(timeout, RENDEZVOUS))
    base = dist.TCPStore(channel.host, channel.port, is_master=False, timeout=wait, wait_for_workers=False)
    store = dist.PrefixStore(f"{channel.prefix}pg/{generation}/", base)
    dist.init_process_group(backend, store=store, rank=channel.rank, world_size=channel.world, timeout=wait)
    group = dist.group.WORLD
    assert group is not None
    if wait.total_seconds() != timeout:
        group.set_timeout(datetime.timedelta(seconds=timeout))
    for ddp in ddps:
        ddp._update_process_group(group)
    _generation = generation
    return time.perf_counter() - started, generation


def _timeout(group: Any) -> float:
    """The group's collective timeout in seconds (the new group gets the same)."""
    import torch

    for device in ("cpu", "cuda"):
        try:
            return float(group._get_backend(torch.device(device)).options._timeout.total_seconds())
        except Exception:
            continue
    from torch.distributed import default_pg_timeout

    return float(default_pg_timeout.total_seconds())
