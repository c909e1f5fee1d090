"""Process groups the program makes with ``dist.new_group``, across a job's restart.

A process group cannot be pickled, and it would not survive a restart anyway: its
connections die with the process. The default one pickles as a reference to the loading
process's default group (:mod:`.optimizers`), which a job resume sets up before the payload
loads. A subgroup (``cpu_group = dist.new_group(backend="gloo")`` for metrics and objects,
``dist.new_group(ranks=[0, 1])``) was left out of the checkpoint, and the resumed program
failed at its first use.

So a torchrun worker notes each ``new_group`` call: what it was given (ranks, backend,
timeout, ...) and the group it returned, in order. A subgroup pickles as its index in that
order; the job checkpoint keeps the list (``groups`` in ``job.json``, the replica's: every
rank made the same calls in the same order, as ``new_group`` requires), and a resumed worker
makes the same calls again, in order, once the default group is set up and before the
payload loads (the calls its own module-level set-up made again count as the first ones).
Each index then comes back as the group this process got, which is per rank: a rank outside
the group gets torch's non-member value, as it did at the first call.

Not re-made (named where a saved value refers to one): groups given ``pg_options`` (backend
objects). Groups made by ``new_subgroups`` go through ``new_group`` and are covered.
"""

from __future__ import annotations

import functools
import os

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

#: Each ``new_group`` call of this process, in order: (how to make it again, or why it
#: cannot be; the group it returned).
made: list[tuple[dict[str, Any], Any]] = []
_pid = os.getpid()


def patch(module: Any) -> None:
    """Wrap ``new_group`` of ``torch.distributed.distributed_c10d`` (installed with
    :mod:`.collectives`' wrappers, on the same import)."""
    original = getattr(module, "new_group", None)
    if original is None or getattr(original, "_daifu_original", None) is not None:
        return

    def new_group(*args: Any, **kwargs: Any) -> Any:
        group = original(*args, **kwargs)
        if os.getpid() == _pid:
            made.append((_recipe(original, args, kwargs), group))
        return group

    functools.update_wrapper(new_group, original)
    new_group._daifu_original = original  # type: ignore[attr-defined]
    module.new_group = new_group


def _recipe(original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments as plain data (JSON), or ``{"refused": why}``."""
    import inspect

    try:
        bound = inspect.signature(original).bind(*args, **kwargs)
    except TypeError as exc:
        return {"refused": f"its arguments could not be read ({exc})"}
    recipe: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        if value is None:
            continue
        if name == "ranks":
            recipe[name] = [int(r) for r in value]
        elif name == "timeout":
            recipe["timeout_s"] = value.total_seconds()
        elif name == "device_id":
            recipe[name] = str(value)
        elif isinstance(value, (bool, int, float, str)):
            recipe[name] = str(value) if isinstance(value, str) else value  # a Backend is a str
        else:
            return {"refused": f"its {name} ({type(value).__name__}) cannot be saved"}
    return recipe


def recipes() -> list[dict[str, Any]]:
    """What a restarted worker needs to make this process's subgroups again, in order."""
    return [recipe for recipe, _ in made]


def index_of(group: Any) -> int | None:
    for index, (_, known) in enumerate(made):
        if known is group:
            return index
    return None


def why_not(index: int) -> str | None:
    recipe = made[index][0]
    return recipe.get("refused")


def subgroup(index: int) -> Any:
    """What a pickled reference to subgroup *index* comes back as: this process's group of
    that call (made again by :func:`make_again`)."""
    if index >= len(made):
        raise RuntimeError(
            f"process group {index} (made by the program's new_group call number {index + 1}) was not made "
            "again in this process"
        )
    recipe, group = made[index]
    if "refused" in recipe:
        raise RuntimeError(f"process group {index} cannot be made again: {recipe['refused']}")
    return group


def make_again(wanted: list[dict[str, Any]]) -> list[str]:
    """Make the saved job's subgroups again, in order, past those this process made already
    (its module-level set-up, run again). Returns the groups that could not be made."""
    import datetime

    import torch.distributed as dist

    skipped = []
    for index in range(len(made), len(wanted)):
        recipe = dict(wanted[index])
        if "refused" in recipe:
            skipped.append(f"process group {index} ({recipe['refused']})")
            made.append((recipe, None))
            continue
        if "timeout_s" in recipe:
            recipe["timeout"] = datetime.timedelta(seconds=recipe.pop("timeout_s"))
        if "device_id" in recipe:
            import torch

            recipe["device_id"] = torch.device(recipe["device_id"])
        dist.new_group(**recipe)  # noted by the wrapper, at this index
    return skipped
