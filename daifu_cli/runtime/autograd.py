"""What a process checkpoint keeps of autograd: gradients yes, graphs no.

``torch.save`` keeps a parameter's data but not its ``.grad``: a run stopped after
``backward()`` and before ``optimizer.step()`` (gradient accumulation, a crash in between)
would resume with no gradients, and the step would change nothing. So the checkpoint carries
the gradients of the leaf tensors it saves (the parameters of its modules and optimizers)
beside them, in the same pickle, and puts them back on load.

A tensor's autograd graph cannot be saved at all: unpickled, a loss comes back as a leaf, and
a ``backward()`` through it would silently compute no gradient for the model. Such tensors
are saved detached instead, so that a ``backward()`` after resuming raises (a crash daifu
intercepts, not a silent wrong step), and the checkpoint names them.
"""

from __future__ import annotations

import sys
from typing import Any


def gradients(groups: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """``(tensor, grad)`` for every leaf tensor with a gradient among the values of *groups*
    (tensors, and the parameters of modules and optimizers)."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return []
    found: dict[int, tuple[Any, Any]] = {}

    def add(tensor: Any) -> None:
        if isinstance(tensor, torch.Tensor) and tensor.is_leaf and tensor.grad is not None:
            found[id(tensor)] = (tensor, tensor.grad)

    for values in groups:
        for value in values.values():
            if isinstance(value, torch.nn.Module):
                for parameter in value.parameters():
                    add(parameter)
            elif isinstance(value, torch.optim.Optimizer):
                for group in value.param_groups:
                    for parameter in group["params"]:
                        add(parameter)
            else:
                add(value)
    return list(found.values())


def restore_gradients(pairs: list[tuple[Any, Any]]) -> None:
    for tensor, grad in pairs:
        tensor.grad = grad


def detach_graphs(groups: list[tuple[dict[str, Any], str]]) -> list[str]:
    """Replace the tensors that carry an autograd graph by detached copies (in place, in each
    ``(values, label)`` of *groups*); what they were, for the checkpoint's list of losses."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return []
    said = []
    for values, label in groups:
        for name, value in list(values.items()):
            if isinstance(value, torch.Tensor) and value.grad_fn is not None:
                values[name] = value.detach()
                said.append(
                    f"{label.format(name)}: its autograd graph cannot be saved; it comes back "
                    "detached (a backward() through it raises)"
                )
    return said
