"""A rank rebuilt from the replica's checkpoint gets its own values of what the program computed
from *who it is*: its rank, its local rank, its environment, its command line.

The replica's checkpoint holds the replica's values of these too: ``rank = dist.get_rank()``,
``local_rank = int(os.environ["LOCAL_RANK"])``, ``args = parser.parse_args()`` (under
``torch.distributed.launch`` every worker gets ``--local-rank=N``), ``is_main = rank == 0``,
``device = f"cuda:{args.local_rank}"``, ``log_name = f"log-{rank}.txt"``. So the program's own
assignments that read one of these *sources*, or a variable already found to depend on one,
are evaluated again, in source order, in the rebuilt process (whose ``sys.argv``, environment
and process group are its own): a plain name, names unpacked from a tuple, an attribute of a
saved object (``args.local_rank = int(os.environ["LOCAL_RANK"])``).

Only plain data is computed again (numbers, strings, paths, ``torch.device``, namespaces and
containers of those): evaluating an expression that builds an object (a DDP wrapper, a tensor,
an open file) could run collectives or open files twice, so such a variable keeps the
replica's value and is named. So are statements that read these values but assign nothing
(``torch.cuda.set_device(local_rank)``) and ran before the point the rank resumes at: they are
not run again.

Attributes set from the rank in functions that are not saved frames are computed again too
(:func:`recompute_attributes`): ``self.global_rank = int(os.environ["RANK"])`` in a trainer's
``__init__``, for the saved instances of its class, and ``args.rank = ...`` in a set-up helper,
for the object a saved frame holds under that name (torchvision's ``init_distributed_mode``).
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from typing import Any

#: Calls whose value differs per rank: torch's rank queries and the command line's parse.
RANK_CALLS = {"get_rank", "get_local_rank", "get_node_local_rank", "get_group_rank"}
ARGV_CALLS = {"parse_args", "parse_known_args", "parse_intermixed_args"}
#: Environment variables torchrun sets per worker (read as ``os.environ[...]``, ``getenv``).
RANK_KEYS = {"RANK", "LOCAL_RANK", "GROUP_RANK", "ROLE_RANK", "NODE_RANK"}


@dataclass
class Outcome:
    recomputed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Depends on the rank but is not plain data: the replica's value stays.
    kept: list[str] = field(default_factory=list)
    #: Statements that read such a value, assign nothing, and are not run again.
    not_run: list[str] = field(default_factory=list)


def recompute(node: ast.AST, values: dict[str, Any], namespace: dict[str, Any], outcome: Outcome,
              derived: set[str] | None = None, before_line: int | None = None) -> set[str]:
    """Evaluate again the assignments of *node* (a function, or a module's top level) that
    depend on the rank, into *values*; returns the names found to depend on it. *derived*:
    names known to already (module globals, for a function); *before_line*: statements before
    it ran in the replica only (name those that assign nothing); ``None``: they ran here."""
    derived = set(derived or ())
    for stmt in _simple_statements(node):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            if not reads_rank(stmt.value, derived):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                _assign(target, stmt, values, namespace, outcome, derived)
        elif before_line is not None and stmt.lineno < before_line and reads_rank(stmt, derived):
            outcome.not_run.append(f"line {stmt.lineno} `{_short(stmt)}`")
    return derived


def _assign(target: ast.expr, stmt: ast.Assign | ast.AnnAssign, values: dict[str, Any], namespace: dict[str, Any],
            outcome: Outcome, derived: set[str]) -> None:
    line = stmt.lineno
    names = _target_names(target)
    if names is not None:
        derived.update(names)
        saved = [n for n in names if n in values]
        if not saved:
            return
        not_plain = [n for n in saved if not plain(values[n])]
        if not_plain:
            outcome.kept += [f"{n} (a {type(values[n]).__name__}, line {line})" for n in not_plain]
            return
        try:
            value = _evaluate(stmt.value, namespace, values)
            if isinstance(target, ast.Name):
                values[target.id] = value
            else:
                items = list(value)
                if len(items) != len(names):
                    raise ValueError(f"{len(items)} values for {len(names)} names")
                for name, item in zip(names, items):
                    values[name] = item
        except (Exception, SystemExit) as exc:  # argparse exits on a bad command line
            outcome.failed.append(f"{', '.join(saved)} (line {line}: {type(exc).__name__}: {exc})")
            return
        outcome.recomputed += saved
        return
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        base = target.value.id
        owner = values.get(base, namespace.get(base))
        label = f"{base}.{target.attr}"
        if owner is None or not plain(getattr(owner, target.attr, None)):
            outcome.kept.append(f"{label} (line {line})")
            return
        try:
            setattr(owner, target.attr, _evaluate(stmt.value, namespace, values))
        except (Exception, SystemExit) as exc:  # argparse exits on a bad command line
            outcome.failed.append(f"{label} (line {line}: {type(exc).__name__}: {exc})")
            return
        derived.add(base)  # what reads the object later reads the value of this rank
        outcome.recomputed.append(label)
        return
    outcome.kept.append(f"line {line} `{_short(stmt)}`")


def _evaluate(expression: ast.expr | None, namespace: dict[str, Any], values: dict[str, Any]) -> Any:
    assert expression is not None
    code = compile(ast.Expression(body=expression), "<daifu rank>", "eval")
    return eval(code, namespace, values)  # the program's own expression, in this rank's process


def _target_names(target: ast.expr) -> list[str] | None:
    """The names a target binds: one name, or a flat tuple/list of names; ``None`` otherwise."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


def reads_rank(node: ast.AST, derived: set[str]) -> bool:
    """Whether *node* reads a per-rank source (a rank query, a rank variable of the
    environment, the command line) or a name already found to depend on one."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in RANK_CALLS or name in ARGV_CALLS:
                return True
        if _source(inner) or (isinstance(inner, ast.Name) and inner.id in derived):
            return True
        # `self.is_main = self.rank == 0`, after `self.rank` was found to depend on the rank
        if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and f"{inner.value.id}.{inner.attr}" in derived:
            return True
    return False


def _source(node: ast.AST) -> bool:
    """A rank variable's name (``os.environ["LOCAL_RANK"]``), or ``sys.argv``."""
    if isinstance(node, ast.Constant):
        return node.value in RANK_KEYS
    return isinstance(node, ast.Attribute) and node.attr == "argv" and isinstance(node.value, ast.Name) and node.value.id == "sys"


def plain(value: Any, depth: int = 0) -> bool:
    """Data that evaluating its expression again cannot harm: numbers, strings, paths, a
    ``torch.device``, a namespace (``argparse.Namespace``), containers of those."""
    if depth > 4:
        return False
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, os.PathLike)):
        return True
    kind = type(value)
    if kind.__name__ == "device" and kind.__module__ == "torch":
        return True
    if isinstance(value, (tuple, list, set, frozenset)):
        return all(plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())
    if kind.__name__ in ("Namespace", "SimpleNamespace"):
        return all(plain(v, depth + 1) for v in vars(value).values())
    return False


def _simple_statements(node: ast.AST) -> list[ast.stmt]:
    """The statements of *node* that are not compound (inside ``if``, ``for``, ``with``,
    ``try`` too, not inside nested functions or classes), in source order."""
    found: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody") if isinstance(getattr(stmt, name, None), list)]
            blocks += [handler.body for handler in getattr(stmt, "handlers", [])]
            blocks += [case.body for case in getattr(stmt, "cases", [])]
            if blocks:
                for block in blocks:
                    visit(block)
            else:
                found.append(stmt)

    visit(getattr(node, "body", []))
    return sorted(found, key=lambda s: (s.lineno, s.col_offset))


def _short(stmt: ast.AST) -> str:
    text = " ".join(ast.unparse(stmt).split())
    return text if len(text) <= 70 else text[:67] + "..."


# -- attributes set in functions that are not saved frames ----------------------------------


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
            except (Exception, SystemExit) as exc:
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
