"""daifu runtime shim, imported by every vaccinated module; standard library only.

A vaccinated output ships this package as ``_daifu_shim``. Importing it installs the builtin
``__daifu__`` (this module), through which the generated barriers and dispatches reach the
runtime, so vaccinated modules gain no global name. Everything beyond the few helpers the
generated code calls is imported on the first crash.
"""

from __future__ import annotations

import builtins as _builtins
import sys as _sys

from .signals import Resumed, cells, leave, propagate, run_else, run_finally, run_script

__all__ = [
    "Resumed",
    "cells",
    "crash",
    "leave",
    "propagate",
    "run_else",
    "run_finally",
    "run_script",
    "vaccinated_module",
]


#: ``(module name, path, source bytes)`` of modules that started before the registry was
#: imported; the registry (which needs ``ast`` and more) is only imported on the first crash.
started: list = []


def vaccinated_module(name: str) -> None:
    """Called once by each vaccinated module as it starts: remember the source it runs (the
    file may be replaced by a fix before the first crash)."""
    registry = _sys.modules.get(__name__ + ".registry")
    if registry is not None:
        registry.register_module(name)
        return
    path = getattr(_sys.modules.get(name), "__file__", None)
    if path:
        try:
            with open(path, "rb") as handle:
                started.append((name, path, handle.read()))
        except OSError:
            pass


def crash(exc: BaseException) -> object:
    """The crash barrier: ``None`` to let *exc* propagate, or the plan that resumes.

    Only ``Exception`` instances that nothing would handle are intercepted; interrupts, exits
    and the iteration and generator protocols always pass.
    """
    if not isinstance(exc, Exception) or isinstance(exc, (StopIteration, StopAsyncIteration, RecursionError)):
        return None
    global _intercept
    if _intercept is None:  # imported on first use: a program that never raises never loads it
        from .barrier import crash as _intercept
    return _intercept(exc, _sys._getframe(1))  # type: ignore[misc]  # set just above


#: barrier.crash, once a barrier has caught something (an import per call cost ~2 us each time
#: a handled exception crossed a vaccinated function).
_intercept = None


_builtins.__daifu__ = _sys.modules[__name__]  # type: ignore[attr-defined]
