"""Run a function on a module once it is imported (at once, if it already is).

The shim adapts a few modules of the program's environment (``warnings``, ``logging``,
torch's DataLoader and optimizer modules) without importing them itself: importing torch or
logging early would change what the program's start-up does and costs. A finder placed first
on ``sys.meta_path`` finds nothing itself; for a watched name it asks the finders after it
and wraps the spec's loader, which runs the module as usual and then the hooks.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Module name -> the hooks waiting for it.
_waiting: dict[str, list[Callable[[Any], None]]] = {}


def when_imported(name: str, hook: Callable[[Any], None]) -> None:
    """Call ``hook(module)`` once the module *name* has run: now if it is imported already."""
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    _waiting.setdefault(name, []).append(hook)
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)  # type: ignore[arg-type]


class _Finder:
    """A ``sys.meta_path`` finder that finds nothing itself: it hands the watched modules'
    specs of the finders after it a loader that runs the hooks once the module ran."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _waiting:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is cls or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader:
    """Runs a watched module's own loader, then its hooks; the module keeps its own loader."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        spec = module.__spec__
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        if module.__dict__.get("__loader__") is self:
            module.__loader__ = self.loader
        hooks = _waiting.pop(module.__name__, [])
        if not _waiting and _Finder in sys.meta_path:
            sys.meta_path.remove(_Finder)  # type: ignore[arg-type]
        for hook in hooks:
            hook(module)
