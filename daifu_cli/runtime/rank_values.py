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
"""

from __future__ import annotations

import ast
import os
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
