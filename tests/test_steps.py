"""The optimizer step counter a lost rank's survivors compare (runtime/steps.py), on real
optimizers: every optimizer's step counts once, and torch's random state right after the
last step is kept (the job checkpoint redoes a step from it)."""

from __future__ import annotations

from conftest import requires_torch

pytestmark = requires_torch


def test_every_step_of_every_optimizer_counts_and_the_state_after_it_is_kept() -> None:
    import torch
    from torch import nn

    from daifu_cli.runtime import steps

    steps.install()  # torch is imported: registers at once (once, however often called)
    steps.install()
    model = nn.Linear(3, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    adam = torch.optim.Adam(model.parameters(), lr=0.1)
    before = steps.count
    for optimizer in (sgd, adam, sgd):
        model(torch.randn(4, 3)).sum().backward()
        optimizer.step()
        after_step = torch.get_rng_state()
        torch.randn(5)  # the next forward draws
    assert steps.count == before + 3
    assert steps.rng_after_step is not None
    assert torch.equal(steps.rng_after_step["torch"], after_step)
    assert not torch.equal(steps.rng_after_step["torch"], torch.get_rng_state())
