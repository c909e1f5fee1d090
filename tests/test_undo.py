"""SWIFT's inverse update (``runtime/undo.py``): undoing a step gives back the parameters and
the optimizer state from before it, within float32 resolution, over a grid of hyper-parameters
(as SWIFT's own test does), after one step and after several."""

from __future__ import annotations

import copy
import itertools

import pytest

torch = pytest.importorskip("torch")

from daifu_cli.runtime import undo  # noqa: E402

EPS = torch.finfo(torch.float32).eps


def _params(seed: int) -> list:  # type: ignore[type-arg]
    g = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(shape, generator=g))
        for shape in ((64, 32), (32,), (7, 3, 5))
    ]


def _step(optimizer, params, seed: int) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(seed)
    for p in params:
        p.grad = torch.randn(p.shape, generator=g) * 0.1
    optimizer.step()


def _state(optimizer, params):  # type: ignore[no-untyped-def]
    return [p.detach().clone() for p in params], copy.deepcopy(optimizer.state_dict()["state"])


def _close(got: torch.Tensor, want: torch.Tensor, ulps: int = 4) -> float:
    """The error in units of float32 resolution of the tensor's scale (1 = one ulp of its
    largest value); asserts it is at most *ulps*."""
    scale = max(want.abs().max().item(), got.abs().max().item(), 1e-30)
    error = (got.double() - want.double()).abs().max().item() / (scale * EPS)
    assert error <= ulps, f"off by {error:.1f} ulps of the scale {scale:.3g}"
    return error


def _check(make, steps: int, first_step_arg: bool = True) -> None:  # type: ignore[no-untyped-def]
    params = _params(0)
    optimizer = make(params)
    for step in range(steps - 1):
        _step(optimizer, params, step + 1)
    before_params, before_state = _state(optimizer, params)
    _step(optimizer, params, 100)
    undo.undo_step(optimizer, **({"first_step": steps == 1} if first_step_arg else {}))
    after_params, after_state = _state(optimizer, params)
    for got, want in zip(after_params, before_params, strict=True):
        _close(got, want)
    assert after_state.keys() == before_state.keys()
    for index, want in before_state.items():
        got = after_state[index]
        assert got.keys() == want.keys(), (got.keys(), want.keys())
        for key, value in want.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                _close(got[key], value)
            else:
                assert float(got[key]) == float(value), key


SGD_GRID = [
    values
    for values in itertools.product(
        [0.01, 0.5], [0.0, 0.5, 0.9], [0.0, 0.1], [0.0, 1e-2], [False, True], [False, True], [1, 3]
    )
    if not (
        values[4] and (values[1] == 0 or values[2])
    )  # torch refuses Nesterov without momentum or with dampening
]


@pytest.mark.parametrize(
    ("lr", "momentum", "dampening", "decay", "nesterov", "maximize", "steps"), SGD_GRID
)
def test_sgd_steps_are_undone(lr, momentum, dampening, decay, nesterov, maximize, steps) -> None:  # type: ignore[no-untyped-def]
    _check(
        lambda p: torch.optim.SGD(
            p,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=decay,
            nesterov=nesterov,
            maximize=maximize,
        ),
        steps,
    )


ADAM_GRID = list(
    itertools.product(
        ["Adam", "AdamW"],
        [1e-3, 0.1],
        [(0.9, 0.999), (0.5, 0.9)],
        [1e-8, 1e-3],
        [0.0, 1e-2],
        [False, True],
        [1, 4],
    )
)


@pytest.mark.parametrize(("kind", "lr", "betas", "eps", "decay", "maximize", "steps"), ADAM_GRID)
def test_adam_steps_are_undone(kind, lr, betas, eps, decay, maximize, steps) -> None:  # type: ignore[no-untyped-def]
    cls = getattr(torch.optim, kind)
    _check(
        lambda p: cls(p, lr=lr, betas=betas, eps=eps, weight_decay=decay, maximize=maximize),
        steps,
        first_step_arg=False,
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: torch.optim.Adam(p, amsgrad=True), "AMSGrad"),
        (lambda p: torch.optim.RMSprop(p), "not an optimizer daifu can invert"),
        (
            lambda p: torch.optim.Adam(
                [torch.nn.Parameter(q.detach().to(torch.bfloat16)) for q in p]
            ),
            "below their resolution",
        ),
    ],
)
def test_steps_that_cannot_be_inverted_are_named(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    optimizer = make([torch.nn.Parameter(torch.ones(3))])
    assert reason in (undo.why_not_invertible(optimizer) or "")
    with pytest.raises(ValueError, match=reason):
        undo.undo_step(optimizer)


def test_sgd_with_momentum_needs_to_know_whether_it_was_the_first_step() -> None:
    params = _params(0)
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    _step(optimizer, params, 1)
    with pytest.raises(ValueError, match="first step"):
        undo.undo_step(optimizer)
