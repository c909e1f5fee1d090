"""Which programs daifu re-runs a timed-out all-reduce for (runtime/regroup.py), in this
process: a real one-rank gloo group, real DDP modules, real exceptions from autograd. The
job-level behaviour (two ranks under torchrun) is in test_distributed_regroup.py."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import requires_torch

pytestmark = requires_torch


@pytest.fixture
def group() -> Iterator[Any]:
    import torch.distributed as dist

    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield dist
    finally:
        dist.destroy_process_group()
        gc.collect()  # the DDP modules of the test: regroup finds them all with gc


def ddp(**options: Any) -> Any:
    import torch
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(0)
    module = options.pop("module", None) or nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return DistributedDataParallel(module, **options)


def failed_backward(model: Any) -> BaseException:
    """A real exception raised by autograd's engine in a backward() through *model*: the
    second backward of a freed graph (what a timed-out all-reduce raises from is the same
    engine call)."""
    import torch

    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    try:
        loss.backward()
    except RuntimeError as exc:
        return exc
    raise AssertionError("the second backward did not raise")


def test_the_plain_shape_is_re_run_through_ddps_reducer(group: Any) -> None:
    """The default DDP: a Redo. Running it sets every gradient again through the reducer
    (the hooks fire and the reduction finishes: the next iteration would raise otherwise)."""
    import torch

    from daifu_cli.runtime import regroup

    model = ddp(bucket_cap_mb=0.0001)  # several buckets
    exc = failed_backward(model)
    expected = [p.grad.clone() for p in model.parameters()]
    redo = regroup._unsupported(exc)
    assert isinstance(redo, regroup.Redo), redo
    model._update_process_group(group.group.WORLD)  # as regroup.rejoin does first
    redo.run()
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), expected, strict=True))
    model.zero_grad()
    model(torch.randn(8, 4)).sum().backward()  # the reducer finished: a new iteration runs


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"find_unused_parameters": True}, "find_unused_parameters=True"),
        ({"gradient_as_bucket_view": True}, "gradient_as_bucket_view=True"),
        ({"static_graph": True}, "static_graph=True"),
        ({"comm_hook": True}, "a communication hook"),
        ({"buffers": True}, "buffers it broadcasts in each forward"),
    ],
)
def test_ddp_options_that_change_the_reduction_are_refused(group: Any, options: dict[str, Any], reason: str) -> None:
    from torch import nn

    from daifu_cli.runtime import regroup

    if options.pop("buffers", False):
        options["module"] = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))
    hook = options.pop("comm_hook", False)
    model = ddp(**options)
    if hook:
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

        model.register_comm_hook(None, default_hooks.allreduce_hook)
    exc = failed_backward(model)
    why = regroup._unsupported(exc)
    assert isinstance(why, str) and why == f"DistributedDataParallel runs with {reason}", why


def test_a_failure_outside_a_backward_is_refused(group: Any) -> None:
    import torch

    from daifu_cli.runtime import regroup

    model = ddp()
    try:
        torch.ones(2).view(3)
    except RuntimeError as exc:
        why = regroup._unsupported(exc)
    assert why == "the collective that failed is not the gradient all-reduce of a DDP backward()"
    del model


def test_two_ddp_modules_or_a_group_of_the_programs_own_are_refused(group: Any) -> None:
    from daifu_cli.runtime import regroup

    first, second = ddp(), ddp()
    why = regroup._unsupported(failed_backward(first))
    assert why == "the process holds 2 DistributedDataParallel modules (daifu re-runs the reduction of one)"
    del second
    gc.collect()
    group.new_group([0])
    why = regroup._unsupported(failed_backward(first))
    assert why == "the program made process groups of its own (1), which daifu cannot re-create"
