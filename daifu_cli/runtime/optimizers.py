"""Optimizers in process checkpoints, and the state no replica holds.

**Pickling.** ``torch.optim.Optimizer.__getstate__`` keeps three fields (``defaults``,
``state``, ``param_groups``), so an optimizer subclass that sets attributes of its own (a
wrapper's ``base_optimizer``, a Lookahead's ``k``, torch's ``ZeroRedundancyOptimizer``)
comes back from pickle without them and fails at its next ``step()`` (``AttributeError``), after
a ``daifu resume`` or a job resume. :func:`dispatch_table` gives those classes a reducer that
also keeps the other attributes; the step and state-dict hooks are left out as torch leaves
them out (they are often closures; the class's ``__setstate__`` makes them empty again). A
class with pickling of its own (its own ``__getstate__``/``__reduce__``) keeps it.

The default process group pickles as a reference to the default group of the loading
process (a job resume sets that one up before the payload is loaded): a ``ZeroRedundancyOptimizer``
refers to it. A group the program made with ``new_group`` pickles as its place among those
calls (:mod:`.groups`, which a job resume makes again); any other is not picklable (said by
the checkpoint, as before).

**Sharded state** (:func:`sharded`): a ``ZeroRedundancyOptimizer`` or an FSDP module holds
only this rank's shard; a rank lost with its shard cannot be rebuilt from another rank's copy.
"""

from __future__ import annotations

import copyreg
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: The last table made: what probing an optimizer's attribute pickles with.
_table: dict[type, Any] = {}


def dispatch_table() -> dict[type, Any]:
    """Reducers for the optimizer classes defined in this process that pickle through torch's
    ``Optimizer.__getstate__``, and for the default process group."""
    table: dict[type, Any] = _table
    table.clear()
    torch: Any = sys.modules.get("torch")
    if torch is None or "torch.optim" not in sys.modules:
        return table
    base = torch.optim.Optimizer
    pending = [base]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if (
            cls.__getstate__ is base.__getstate__
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
        ):
            table[cls] = _reduce_optimizer
    dist = sys.modules.get("torch.distributed")
    group = _default_group_or_none(dist)
    if group is not None:
        table[type(group)] = _reduce_group
    return table


#: Attributes of optimizers left out of the last checkpoint, said with it (``name: why``).
left_out: list[str] = []


def _reduce_optimizer(optimizer: Any) -> Any:
    state = dict(optimizer.__getstate__())
    rewrap = False
    for name, value in vars(optimizer).items():
        if name in state or _is_hooks(name):
            continue
        if name == "step" and getattr(value, "_wrapped_by_lr_sched", False):
            rewrap = True  # an LR scheduler's wrapper: made again on load (see _set_state)
            continue
        if callable(value) and callable(getattr(type(optimizer), name, None)):
            continue  # a method wrapped on the instance by someone else: not state of its own
        why = _unpicklable(value)
        if why is not None:
            note = f"{type(optimizer).__name__}.{name}: {why}"
            if note not in left_out:
                left_out.append(note)
            continue
        state[name] = value
    if rewrap:
        return copyreg.__newobj__, (type(optimizer),), state, None, None, _set_state_wrapped  # type: ignore[attr-defined]
    return copyreg.__newobj__, (type(optimizer),), state  # type: ignore[attr-defined]


def _set_state_wrapped(optimizer: Any, state: dict[str, Any]) -> None:
    """Set the state, then wrap ``step`` as torch's LR schedulers do (it marks the optimizer
    stepped, which the scheduler's first ``step()`` checks)."""
    optimizer.__setstate__(state)
    import functools
    import weakref

    method = type(optimizer).step
    owner = weakref.ref(optimizer)

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        target: Any = owner()
        target._opt_called = True
        return method.__get__(target, type(target))(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True  # type: ignore[attr-defined]
    optimizer.step = wrapper


def _unpicklable(value: Any) -> str | None:
    """Why pickle cannot save *value* (tensor data not serialized to find out), or ``None``."""
    import pickle
    import types

    from . import payload

    class Pickler(pickle.Pickler):
        dispatch_table = _table

    try:
        payload.probe(value, types.SimpleNamespace(Pickler=Pickler))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return None


def _is_hooks(name: str) -> bool:
    return name.startswith("_optimizer_") and name.endswith("_hooks")


def take_left_out() -> list[str]:
    """What optimizers' reducers left out since the last call (and forget it)."""
    notes = [f"optimizer attribute {note} (not saved)" for note in left_out]
    left_out.clear()
    return notes


def _reduce_group(group: Any) -> Any:
    if group is _default_group_or_none(sys.modules.get("torch.distributed")):
        return default_group, ()
    from . import groups

    index = groups.index_of(group)  # a subgroup the program made: made again on a job resume
    if index is None:
        raise TypeError(f"cannot pickle a process group the program did not make with new_group ({group!r})")
    why = groups.why_not(index)
    if why:
        raise TypeError(f"cannot pickle process group {index}: {why}")
    return groups.subgroup, (index,)


def default_group() -> Any:
    """The loading process's default process group (what a pickled reference to the saving
    process's default group comes back as)."""
    import torch.distributed as dist

    return dist.distributed_c10d._get_default_group()


def _default_group_or_none(dist: Any) -> Any:
    try:
        if dist is None or not dist.is_available() or not dist.is_initialized():
            return None
        return dist.distributed_c10d._get_default_group()
    except Exception:
        return None


def sharded(values: dict[str, Any]) -> list[str]:
    """``name (class)`` of each value that holds only this rank's shard of the job's state:
    the value itself or, one level down, an attribute of it (a trainer's ``optimizer``)."""
    kinds = _sharded_types()
    if not kinds:
        return []
    found = []
    for name, value in values.items():
        if isinstance(value, kinds):
            found.append(f"{name} ({type(value).__name__})")
            continue
        attributes = getattr(value, "__dict__", None)
        if not isinstance(attributes, dict) or isinstance(value, type):
            continue
        for attribute, inner in attributes.items():
            if isinstance(inner, kinds):
                found.append(f"{name}.{attribute} ({type(inner).__name__})")
    return found


def _sharded_types() -> tuple[type, ...]:
    kinds = []
    zero = sys.modules.get("torch.distributed.optim.zero_redundancy_optimizer")
    if zero is not None:
        kinds.append(zero.ZeroRedundancyOptimizer)
    fsdp = sys.modules.get("torch.distributed.fsdp.fully_sharded_data_parallel")
    if fsdp is not None:
        kinds.append(fsdp.FullyShardedDataParallel)
    composable = sys.modules.get("torch.distributed.fsdp._fully_shard._fully_shard")
    if composable is not None and hasattr(composable, "FSDPModule"):
        kinds.append(composable.FSDPModule)
    return tuple(kinds)
