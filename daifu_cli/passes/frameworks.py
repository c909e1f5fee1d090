"""The functions of a project that training frameworks call per step or per batch.

With Lightning, the Hugging Face ``Trainer`` or accelerate, the training loop lives in the
library and the project holds hooks without loops of their own, which the default policy
(functions with loops) would leave alone. This pass finds them statically, over the whole
project, before the files are transpiled one by one:

* methods of subclasses of Lightning's ``LightningModule``, ``LightningDataModule`` and
  ``Callback`` (any class of ``*.callbacks``): ``*_step`` methods, ``on_*`` hooks and
  ``backward``, ``optimizer_zero_grad``, ``configure_gradient_clipping``,
  ``transfer_batch_to_device`` (Callbacks: their ``on_*`` hooks);
* of subclasses of the Hugging Face ``Trainer`` (and ``*Trainer`` of ``transformers`` and
  ``trl``): ``compute_loss``, ``training_step``, ``prediction_step``; every method of a
  subclass of ``TrainerCallback`` (or of any ``*Callback`` of ``transformers``); ``__call__`` and ``torch_call`` of a ``DataCollator*`` subclass;
* data collators and metric functions handed to the framework by keyword
  (``collate_fn=``, ``data_collator=``, ``compute_metrics=``, ``preprocess_logits_for_metrics=``):
  a project function, ``functools.partial`` of one, ``self.method``, or an instance of a project
  class (its ``__call__``).

The frameworks' classes are recognised from the file's imports, with aliases and re-exports:
``lightning.pytorch``, ``pytorch_lightning``, ``import lightning as L`` then
``L.LightningModule``, ``from lightning.pytorch.core.module import LightningModule``, a
``from lightning.pytorch import *``. A
subclass of such a class anywhere in the project (another file, a subclass of a subclass)
counts too. ``forward`` and dunder methods other than ``__call__`` are never hooks. The body
of an accelerate loop needs nothing here: it is a loop.

Only files that mention a framework, or the name of a class already found, are parsed: a
project without these frameworks costs a byte search per file.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

#: Per file, per qualified name: why the framework calls it (shown by ``--explain``).
Hooks = dict[str, dict[str, str]]

_LIGHTNING_ROOTS = ("lightning", "pytorch_lightning")
_HF_ROOTS = ("transformers", "trl")
_MENTIONS = (b"lightning", b"transformers", b"import trl", b"from trl", b"collate_fn", b"data_collator", b"compute_metrics",
             b"preprocess_logits_for_metrics")
_KEYWORDS = {
    "collate_fn": "a data collator (collate_fn=)",
    "data_collator": "a data collator (data_collator=)",
    "compute_metrics": "the Trainer's compute_metrics=",
    "preprocess_logits_for_metrics": "the Trainer's preprocess_logits_for_metrics=",
}
_LIGHTNING_MODULE_HOOKS = {"backward", "optimizer_zero_grad", "configure_gradient_clipping",
                           "transfer_batch_to_device", "lr_scheduler_step"}
_TRAINER_HOOKS = {"compute_loss", "training_step", "prediction_step"}
_COLLATOR_HOOKS = {"__call__", "torch_call"}

#: Kinds of framework classes, with their display names.
KINDS = {
    "lightning-module": "LightningModule",
    "lightning-datamodule": "LightningDataModule",
    "lightning-callback": "Lightning Callback",
    "hf-trainer": "Trainer",
    "hf-callback": "TrainerCallback",
    "hf-collator": "DataCollator",
}


def framework_kind(dotted: str) -> str | None:
    """The kind of a framework class named by its full dotted path, or ``None``."""
    parts = dotted.split(".")
    if len(parts) < 2:
        return None
    root, name = parts[0], parts[-1]
    if root in _LIGHTNING_ROOTS:
        if name == "LightningModule":
            return "lightning-module"
        if name == "LightningDataModule":
            return "lightning-datamodule"
        if name == "Callback" or "callbacks" in parts[1:-1]:
            return "lightning-callback"
        return None
    if root in _HF_ROOTS:
        if name.endswith("Callback"):  # TrainerCallback, EarlyStoppingCallback, ...
            return "hf-callback"
        if name.endswith("Trainer"):  # Trainer, Seq2SeqTrainer, trl's SFTTrainer, ...
            return "hf-trainer"
        if name.startswith("DataCollator"):
            return "hf-collator"
    return None


def is_hook(kind: str, name: str) -> bool:
    """Whether a method *name* of a subclass of a framework class of *kind* is called by the
    framework per step, per batch or per epoch."""
    if name == "forward":
        return False
    if kind == "lightning-module":
        return name.endswith("_step") or name.startswith("on_") or name in _LIGHTNING_MODULE_HOOKS
    if kind == "lightning-datamodule":
        return name.startswith("on_") or name == "transfer_batch_to_device"
    if kind == "lightning-callback":
        return name.startswith("on_")
    if kind == "hf-trainer":
        return name in _TRAINER_HOOKS
    if kind == "hf-callback":
        return not (name.startswith("__") and name.endswith("__"))
    if kind == "hf-collator":
        return name in _COLLATOR_HOOKS
    return False


def module_name(relpath: str) -> str:
    """``pkg/models.py`` -> ``pkg.models``; ``pkg/__init__.py`` -> ``pkg``."""
    parts = relpath[: -len(".py")].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@dataclass
class _File:
    relpath: str
    module: str
    tree: ast.Module
    #: Local name -> full dotted path, from the file's imports.
    imports: dict[str, str] = field(default_factory=dict)
    #: Top-level classes: name -> node.
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    #: Modules imported with ``from M import *``.
    stars: list[str] = field(default_factory=list)


def project_hooks(sources: Iterable[tuple[str, bytes]]) -> Hooks:
    """The framework hooks of a project, from ``(relpath, bytes)`` of its Python files."""
    data = dict(sources)
    parsed: dict[str, _File | None] = {}

    def parse(relpath: str) -> _File | None:
        if relpath not in parsed:
            parsed[relpath] = _parse(relpath, data[relpath])
        return parsed[relpath]

    #: (module, class name) -> kinds, of project classes derived from framework classes.
    derived: dict[tuple[str, str], dict[str, str]] = {}
    pending = [r for r, d in data.items() if any(m in d for m in _MENTIONS)]
    while pending:
        found = False
        for relpath in pending:
            info = parse(relpath)
            if info is None:
                continue
            for name, node in info.classes.items():
                if (info.module, name) in derived:
                    continue
                kinds = _class_kinds(node, info, derived, data)
                if kinds:
                    derived[(info.module, name)] = kinds
                    found = True
        if not found:
            break
        names = {n.encode() for _, n in derived}
        pending = [r for r, d in data.items() if b"class " in d and any(n in d for n in names)]
    hooks: Hooks = {}
    for relpath, info in list(parsed.items()):  # parse() may add the files keywords point to
        if info is None:
            continue
        for name, node in info.classes.items():
            inherited = derived.get((info.module, name))
            if inherited:
                _class_hooks(node, name, inherited, hooks.setdefault(relpath, {}))
        _keyword_hooks(info, data, derived, hooks, parse)
    return {r: h for r, h in sorted(hooks.items()) if h}


def digest(hooks: Hooks) -> str:
    """A short stable digest of *hooks* (part of the output's cache fingerprint)."""
    return hashlib.sha256(json.dumps(hooks, sort_keys=True).encode()).hexdigest()[:16] if hooks else ""


def _parse(relpath: str, data: bytes) -> _File | None:
    try:
        tree = ast.parse(data, relpath)
    except (SyntaxError, ValueError):
        return None
    info = _File(relpath, module_name(relpath), tree)
    package = info.module if relpath.endswith("__init__.py") else info.module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    info.imports[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    info.imports[root] = root
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".") if package else []
                up = up[: len(up) - (node.level - 1)] if node.level > 1 else up
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                if alias.name == "*":
                    info.stars.append(base)
                else:
                    info.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            info.classes[node.name] = node
    return info


def _dotted(expr: ast.expr, info: _File) -> str | None:
    """The full dotted path an expression names, through the file's imports; a name of the
    file itself is ``<module>.<name>``."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Call):  # Generic[...]-free; `Base()` is not a base
        return None
    if isinstance(expr, ast.Subscript):
        return _dotted(expr.value, info) if not parts else None
    if not isinstance(expr, ast.Name):
        return None
    head = info.imports.get(expr.id)
    if head is None:
        head = f"{info.module}.{expr.id}" if info.module else expr.id
    return ".".join([head, *reversed(parts)])


def _project_class(dotted: str, derived: dict[tuple[str, str], dict[str, str]], data: dict[str, bytes]) -> dict[str, str] | None:
    """The kinds of the project class *dotted* names, if it is one derived from a framework."""
    module, _, name = dotted.rpartition(".")
    candidates = [(m, n) for (m, n) in derived if n == name]
    for m, n in candidates:
        if m == module or m.endswith("." + module) or (module.endswith("." + m) and m):
            return derived[(m, n)]
    # A re-export through a project package (`from pkg import Model` where pkg/__init__.py
    # imports it): the package is the project's, so the name is taken to be that class.
    if candidates and any(module_name(r) == module or module_name(r).endswith("." + module) for r in data):
        return derived[candidates[0]]
    return None


def _class_kinds(node: ast.ClassDef, info: _File, derived: dict[tuple[str, str], dict[str, str]],
                 data: dict[str, bytes]) -> dict[str, str]:
    """The framework kinds of a class from its bases: kind -> how it is reached."""
    kinds: dict[str, str] = {}
    for base in node.bases:
        dotted = _dotted(base, info)
        if dotted is None:
            continue
        kind = framework_kind(dotted)
        if kind is None and isinstance(base, ast.Name) and base.id not in info.imports and base.id not in info.classes:
            # `from lightning.pytorch import *` then `class Model(LightningModule)`
            for star in info.stars:
                kind = framework_kind(f"{star}.{base.id}")
                if kind is not None:
                    dotted = f"{star}.{base.id}"
                    break
        if kind is not None:
            kinds.setdefault(kind, dotted)
            continue
        inherited = _project_class(dotted, derived, data)
        if inherited:
            for k, via in inherited.items():
                kinds.setdefault(k, f"{base_text(base)} < {via}")
    return kinds


def base_text(base: ast.expr) -> str:
    return ast.unparse(base)


def _class_hooks(node: ast.ClassDef, name: str, kinds: dict[str, str], out: dict[str, str]) -> None:
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for kind, via in kinds.items():
            if is_hook(kind, item.name):
                out.setdefault(f"{name}.{item.name}", f"{KINDS[kind]} hook ({name} < {via})")
                break


def _keyword_hooks(info: _File, data: dict[str, bytes], derived: dict[tuple[str, str], dict[str, str]],
                   hooks: Hooks, parse: Callable[[str], _File | None]) -> None:
    """Functions handed to the framework by keyword: ``collate_fn=collate`` and kin."""
    for scope, cls in _scopes(info.tree):
        for node in ast.walk(scope) if scope is not info.tree else _module_walk(info.tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg not in _KEYWORDS:
                    continue
                why = _KEYWORDS[keyword.arg]
                target = _target(keyword.value, info, cls)
                if target is None:
                    continue
                relpath, qualname = target
                if relpath is None:
                    relpath = _file_of(qualname, data, parse)
                    if relpath is None:
                        continue
                    qualname = qualname.rpartition("|")[2]
                hooks.setdefault(relpath, {}).setdefault(qualname, f"{why} at {info.relpath}:{node.lineno}")


def _scopes(tree: ast.Module) -> list[tuple[ast.AST, ast.ClassDef | None]]:
    out: list[tuple[ast.AST, ast.ClassDef | None]] = [(tree, None)]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out.append((node, node))
    return out


def _module_walk(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node of *tree* outside its top-level classes."""
    stack: list[ast.AST] = [n for n in tree.body if not isinstance(n, ast.ClassDef)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _target(value: ast.expr, info: _File, cls: ast.ClassDef | None) -> tuple[str | None, str] | None:
    """Where the function a keyword hands over is defined: ``(relpath, qualname)``, or
    ``(None, "module|qualname")`` for another file of the project."""
    if isinstance(value, ast.Call):
        func = _dotted(value.func, info) if isinstance(value.func, (ast.Name, ast.Attribute)) else None
        if func is not None and func.rpartition(".")[2] == "partial" and value.args:
            return _target(value.args[0], info, cls)
        # An instance of a project class: its __call__.
        if isinstance(value.func, ast.Name):
            return _callable(value.func.id, info, call=True)
        return None
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
        if cls is not None and any(isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef)) and i.name == value.attr
                                   for i in cls.body):
            return info.relpath, f"{cls.name}.{value.attr}"
        return None
    if isinstance(value, ast.Name):
        return _callable(value.id, info, call=False)
    return None


def _callable(name: str, info: _File, call: bool) -> tuple[str | None, str] | None:
    for node in info.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and not call:
            return info.relpath, name
        if isinstance(node, ast.ClassDef) and node.name == name and call:
            return info.relpath, f"{name}.__call__"
    dotted = info.imports.get(name)
    if dotted is None or dotted.split(".")[0] in (*_LIGHTNING_ROOTS, *_HF_ROOTS, "torch", "functools"):
        return None
    module, _, attr = dotted.rpartition(".")
    return None, f"{module}|{attr}.__call__" if call else f"{module}|{attr}"


def _file_of(ref: str, data: dict[str, bytes], parse: Callable[[str], _File | None]) -> str | None:
    """The project file that defines ``module|name`` (a module of the project, matched by its
    dotted name or a suffix of it, as a script's folder on ``sys.path`` allows)."""
    module, _, qualname = ref.partition("|")
    top = qualname.split(".")[0]
    for relpath in data:
        name = module_name(relpath)
        if name != module and not name.endswith("." + module):
            continue
        info = parse(relpath)
        if info is None:
            continue
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == top
               for n in info.tree.body):
            return relpath
    return None
