"""Undo an optimizer step that some replicas applied and others did not (SWIFT's inverse update).

When a rank is lost in the middle of a data-parallel step, the survivors can disagree: some
applied the update, some did not. SWIFT (Zhong et al., PPoPP'23) brings them back to one state
by computing the update's inverse from what the optimizer leaves behind: the new parameters,
its new state and the gradients it read (still in ``.grad``: the step does not clear them).
That costs no copy and no steady-state work, where a copy taken before every step would cost a
model's memory and a copy per step.

Inverses written here, for torch's own update rules (``torch/optim/sgd.py``, ``adam.py``,
``adamw.py``), computed in float64 and rounded once to the parameter's type, so a float32 undo
lands within a unit in the last place or two of the state before the step
(``tests/test_undo.py`` checks a grid of hyper-parameters):

* SGD: plain, momentum (with dampening), Nesterov, weight decay, ``maximize``. The momentum
  buffer before the step is ``(buf' - (1 - dampening) * d) / momentum``: exact algebra, and
  rounding grows as ``1 / momentum`` (tested down to momentum 0.5). The first step creates the
  buffer, and undoing it removes the buffer.
* Adam and AdamW: L2 or decoupled weight decay, ``maximize``, bias correction; the first step's
  undo empties the state, as before it.

Not invertible, so :func:`why_not_invertible` names them and the caller falls back to a copy
taken before the step (or to a checkpoint): AMSGrad (the running maximum forgets what it
replaced), fused and capturable kernels (a different order of operations, and state on the
device the host does not see step by step), parameters in reduced precision (bf16 and fp16:
the update is far below their resolution, so the inverse cannot tell the old value among
many), other optimizers, and learning rates that are tensors. Gradient clipping needs nothing
special: it changes ``.grad`` in place before the step, and the undo reads the clipped values.
The learning rate used is the param group's: undo before the LR scheduler steps (its step
changes it), or undo the scheduler first.
"""

from __future__ import annotations

from typing import Any

_SUPPORTED = ("SGD", "Adam", "AdamW")


def why_not_invertible(optimizer: Any) -> str | None:
    """Why the last step of *optimizer* cannot be undone from its own state, or ``None``."""
    import torch

    kind = type(optimizer).__name__
    if kind not in _SUPPORTED or type(optimizer).__module__.split(".")[:2] != ["torch", "optim"]:
        return f"{kind} is not an optimizer daifu can invert (SGD, Adam, AdamW)"
    for group in optimizer.param_groups:
        if group.get("amsgrad"):
            return "AMSGrad keeps a running maximum, which forgets the value it replaced"
        if group.get("fused") or group.get("capturable"):
            return "fused and capturable kernels update in an order (and on a device) the inverse does not follow"
        if isinstance(group.get("lr"), torch.Tensor):
            return "a learning rate held in a tensor"
        for param in group["params"]:
            if param.dtype not in (torch.float32, torch.float64):
                return f"parameters in {param.dtype}: the update is below their resolution"
    return None


def undo_step(optimizer: Any, *, first_step: bool | None = None) -> None:
    """Put *optimizer*'s parameters and state back as they were before its last ``step()``.

    The gradients must be the ones that step read (call this before ``zero_grad``), and the
    param groups' hyper-parameters those of that step. SGD keeps no step count, so with
    momentum the caller says whether that step was the optimizer's first (*first_step*: it
    created the momentum buffers); Adam's state knows. Raises ``ValueError`` with the reason
    where the step cannot be undone."""
    import torch

    reason = why_not_invertible(optimizer)
    if reason is not None:
        raise ValueError(reason)
    kind = type(optimizer).__name__
    if kind == "SGD" and first_step is None and any(g["momentum"] for g in optimizer.param_groups):
        raise ValueError(
            "SGD with momentum keeps no step count: say whether this was its first step"
        )
    with torch.no_grad():
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue  # the step skipped it
                state = optimizer.state.get(param)
                if kind == "SGD":
                    _undo_sgd(param, state, group, bool(first_step))
                else:
                    decoupled = group.get("decoupled_weight_decay", kind == "AdamW")
                    _undo_adam(param, state, group, decoupled=bool(decoupled))
                if state is not None and not state:
                    del optimizer.state[param]  # as before the first step: no entry at all


def _undo_sgd(
    param: Any, state: dict[str, Any] | None, group: dict[str, Any], first_step: bool
) -> None:
    lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
    decay, nesterov, sign = (
        group["weight_decay"],
        group["nesterov"],
        -1.0 if group["maximize"] else 1.0,
    )
    new = param.double()
    grad = sign * param.grad.double()  # maximize steps along the gradient: d_p = -grad
    buffer = state.get("momentum_buffer") if state else None
    if momentum and buffer is not None:
        buf = buffer.double()
        if nesterov:  # p' = p - lr * (g + wd * p + momentum * buf')
            old = (new + lr * grad + lr * momentum * buf) / (1 - lr * decay)
        else:  # p' = p - lr * buf'
            old = new + lr * buf
        d_p = grad + decay * old
        if first_step:  # the step made the buffer (a copy of d_p): undone, there is none
            del state["momentum_buffer"]  # type: ignore[union-attr]
        else:
            buffer.copy_((buf - (1 - dampening) * d_p) / momentum)
    else:  # p' = p - lr * (g + wd * p)
        old = (new + lr * grad) / (1 - lr * decay)
    param.copy_(old)


def _undo_adam(
    param: Any, state: dict[str, Any] | None, group: dict[str, Any], *, decoupled: bool
) -> None:
    import torch

    if not state or "step" not in state:
        return  # never stepped
    lr, (beta1, beta2), eps, decay = (
        group["lr"],
        group["betas"],
        group["eps"],
        group["weight_decay"],
    )
    step = int(state["step"].item() if isinstance(state["step"], torch.Tensor) else state["step"])
    grad = (-param.grad if group["maximize"] else param.grad).double()
    m, v = state["exp_avg"].double(), state["exp_avg_sq"].double()
    correction1, correction2 = 1 - beta1**step, 1 - beta2**step
    denom = v.sqrt() / correction2**0.5 + eps
    before_update = param.double() + (lr / correction1) * m / denom
    if decoupled:  # AdamW: p <- p * (1 - lr * wd) first, then the Adam update
        old = before_update / (1 - lr * decay)
    else:  # Adam: weight decay is added to the gradient (L2)
        old = before_update
        grad = grad + decay * old
    if step == 1:  # the first step made the state: undone, it is empty again
        state.clear()
    else:
        state["exp_avg"].copy_((m - (1 - beta1) * grad) / beta1)
        state["exp_avg_sq"].copy_(((v - (1 - beta2) * grad * grad) / beta2).clamp_(min=0))
        if isinstance(state["step"], torch.Tensor):
            state["step"].sub_(1)
        else:
            state["step"] = step - 1
    param.copy_(old)
