"""A rank rebuilt from another rank's checkpoint: the values the program computes from its
rank, computed again for this rank (:func:`.jobcheckpoint.after_load`).

Only *plain* values are computed again: numbers, strings, booleans, ``None``, a
``torch.device``, tuples of these (``rank = dist.get_rank()``, ``is_main = rank == 0``,
``seed = args.seed + rank``, ``device = torch.device(f"cuda:{local_rank}")``). An object built
from the rank (``DistributedSampler(data, rank=rank)``, the ``DataLoader`` over it, a scheduler
sized by ``len(loader)``, the loop's iterator over that loader) is *kept* as the replica's: it
carries state the checkpoint holds (the sampler's epoch, the iterator's position, the
scheduler's step count) that building it again would start over, and a constructor can change
other objects (an LR scheduler sets its optimizer's learning rates). Before, every such object
was built again: a fresh sampler at epoch 0 and a fresh iterator made the rebuilt rank run a
whole epoch while the others ran its rest (the job hung in mismatched collectives), and the
scheduler started over. The samplers' own rank is put back by the caller.

Attributes too: ``self.global_rank = int(os.environ["RANK"])`` in any method of a class whose
instance a saved frame holds, and ``args.rank = int(os.environ["RANK"])`` in a function, for
the object a saved frame holds under that same name (``args``): the common ways scripts keep
their rank on a trainer object or the parsed arguments. The expression is evaluated with the
module's globals, the object, and the plain values its function computes from the rank before
it; one that needs other locals of that function (a parameter) cannot be, and is named.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from typing import Any

_RANK_CALLS = {"get_rank", "get_local_rank", "get_node_local_rank", "get_group_rank"}
_RANK_KEYS = {"RANK", "LOCAL_RANK", "GROUP_RANK"}


@dataclass
class Outcome:
    recomputed: list[str] = field(default_factory=list)
    #: Objects derived from the rank, left as the replica's (see the module's docstring).
    kept: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def plain(value: Any) -> bool:
    """Whether *value* is a value that holds no state of its own to lose by computing it again."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if isinstance(value, tuple):
        return all(plain(v) for v in value)
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.device)


def recompute(node: ast.AST, values: dict[str, Any], namespace: dict[str, Any], outcome: Outcome) -> None:
    """Assign again, in source order, the plain variables of *values* that the code of *node*
    computes from the rank (``dist.get_rank()``, ``os.environ["LOCAL_RANK"]``, or such a
    variable)."""
    derived: set[str] = set()
    for assign in _assignments(node):
        target = _single_target(assign)
        if not isinstance(target, ast.Name) or target.id not in values:
            continue
        assert assign.value is not None
        if not reads_rank(assign.value, derived):
            continue
        name = target.id
        derived.add(name)
        if not plain(values[name]):
            if not name.startswith("_daifu"):
                outcome.kept.append(name)
            continue
        try:
            values[name] = _evaluate(assign.value, namespace, values)
            outcome.recomputed.append(name)
        except Exception as exc:
            outcome.failed.append(f"{name} ({type(exc).__name__}: {exc})")


def recompute_attributes(sources: dict[str, str], holders: list[dict[str, Any]], outcome: Outcome) -> None:
    """Attributes the project's functions set from the rank (``self.rank = ...``,
    ``args.rank = ...``), on the objects the saved frames and globals hold (*holders*: name ->
    value)."""
    for module_name, source in sources.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        tree = ast.parse(source)
        for function, owner in _functions(tree):
            _function_attributes(function, owner, vars(module), holders, outcome)


def _function_attributes(function: ast.AST, owner: str | None, namespace: dict[str, Any],
                         holders: list[dict[str, Any]], outcome: Outcome) -> None:
    local: dict[str, Any] = {}  # the plain values it computes from the rank before
    derived: set[str] = set()
    params = _parameters(function)
    for assign in _assignments(function):
        target = _single_target(assign)
        assert assign.value is not None
        if isinstance(target, ast.Name):
            if reads_rank(assign.value, derived):
                derived.add(target.id)
                try:
                    value = _evaluate(assign.value, namespace, local)
                    if plain(value):
                        local[target.id] = value
                except Exception:
                    pass
            continue
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            continue
        if not reads_rank(assign.value, derived):
            continue
        base, attribute = target.value.id, target.attr
        derived.add(f"{base}.{attribute}")  # `self.is_main = self.rank == 0` follows
        for obj in _objects(base, owner if params[:1] == [base] else None, holders):
            if not plain(getattr(obj, attribute, object())):
                continue
            label = f"{type(obj).__name__}.{attribute}" if owner else f"{base}.{attribute}"
            try:
                value = _evaluate(assign.value, namespace, {**local, base: obj})
            except Exception as exc:
                outcome.failed.append(f"{label} ({type(exc).__name__}: {exc})")
                continue
            if plain(value):
                setattr(obj, attribute, value)
                if label not in outcome.recomputed:
                    outcome.recomputed.append(label)


def _objects(base: str, owner: str | None, holders: list[dict[str, Any]]) -> list[Any]:
    """The saved objects *base* stands for: instances of the class *owner* (``self`` of its
    methods), or the values saved under the name *base* (a function's parameter is usually
    the object its caller holds under the same name: ``args``)."""
    found: dict[int, Any] = {}
    for values in holders:
        for name, value in values.items():
            if owner is not None:
                if any(klass.__qualname__ == owner for klass in type(value).__mro__):
                    found[id(value)] = value
            elif name == base and hasattr(value, "__dict__") and not isinstance(value, type):
                found[id(value)] = value
    return list(found.values())


def _functions(tree: ast.Module) -> list[tuple[ast.AST, str | None]]:
    """Every function of *tree*, with the qualified name of the class a method belongs to."""
    found: list[tuple[ast.AST, str | None]] = []

    def visit(node: ast.AST, klass: str | None, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}", f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((child, klass))
                visit(child, None, f"{prefix}{child.name}.<locals>.")
            else:
                visit(child, klass, prefix)

    visit(tree, None, "")
    return found


def _parameters(function: ast.AST) -> list[str]:
    args = getattr(function, "args", None)
    if args is None:
        return []
    return [a.arg for a in [*args.posonlyargs, *args.args]]


def _assignments(node: ast.AST) -> list[ast.Assign | ast.AnnAssign]:
    return sorted(
        (n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None),
        key=lambda n: (n.lineno, n.col_offset),
    )


def _single_target(assign: ast.Assign | ast.AnnAssign) -> ast.expr | None:
    targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
    return targets[0] if len(targets) == 1 else None


def _evaluate(expression: ast.expr, namespace: dict[str, Any], values: dict[str, Any]) -> Any:
    code = compile(ast.Expression(body=expression), "<daifu rank>", "eval")
    return eval(code, namespace, values)  # the program's own expression


def reads_rank(expression: ast.expr, derived: set[str]) -> bool:
    for node in ast.walk(expression):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _RANK_CALLS:
                return True
        if isinstance(node, ast.Constant) and node.value in _RANK_KEYS:
            return True
        if isinstance(node, ast.Name) and node.id in derived:
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and f"{node.value.id}.{node.attr}" in derived:
            return True
    return False
