"""daifu runtime shim, imported by every vaccinated module; standard library only.

A vaccinated output ships this package as ``_daifu_shim``. Importing it installs the builtin
``__daifu__`` (this module), through which the generated barriers and dispatches reach the
runtime, so vaccinated modules gain no global name. Everything beyond the few helpers the
generated code calls is imported when a barrier first has to decide about an exception (one
that is not a protocol's signal, which is decided here).
"""

from __future__ import annotations

import builtins as _builtins
import sys as _sys

from .positions import install as _install_positions
from .protocols import MARK as _MARK
from .protocols import verdict as _protocol_verdict
from .signals import Hold as _Hold
from .signals import Restore as _Restore
from .signals import Resumed, cells, leave, propagate, run_else, run_finally, run_script

__all__ = [
    "Resumed",
    "cells",
    "crash",
    "iter",
    "leave",
    "propagate",
    "run_else",
    "run_finally",
    "run_script",
    "vaccinated_module",
]


#: The builtin ``iter``, for the loops daifu writes: ``_daifu_it_L3 = __daifu__.iter(rows)``.
#: A bare ``iter`` there would call whatever the program binds to that name (a local, a global,
#: a patched builtin), where the original ``for`` statement calls none of them.
iter = _builtins.iter

#: ``(module name, path, source bytes)`` of modules that started before the registry was
#: imported; the registry (which needs ``ast`` and more) is only imported on the first crash.
started: list = []


def vaccinated_module(name: str) -> None:
    """Called once by each vaccinated module as it starts: remember the source it runs (the
    file may be replaced by a fix before the first crash)."""
    registry = _sys.modules.get(__name__ + ".registry")
    if registry is not None:
        registry.register_module(name)
    else:
        path = getattr(_sys.modules.get(name), "__file__", None)
        if path:
            try:
                with open(path, "rb") as handle:
                    started.append((name, path, handle.read()))
            except OSError:
                pass
    global _resume_checked
    if not _resume_checked:
        _resume_checked = True
        import os

        checkpoint = os.environ.pop("DAIFU_RESUME", None)  # not inherited by child processes
        if checkpoint:
            from .restart import arm

            arm(checkpoint)
        elif os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") not in ("", "0"):
            # torchrun restarted the workers: resume from the job's checkpoint, if one was left
            from .jobcheckpoint import enabled, resume_job

            resume_job()
            if enabled():  # the program's own init_process_group, where it runs again
                from .attempt_store import install as attempt_keys

                attempt_keys()
        from .safepoint import install

        install()  # SIGUSR1 and SIGTERM: a process checkpoint at the next statement boundary
        from .loaders import install as record_loader_starts

        record_loader_starts()  # where each DataLoader epoch starts: its position can be saved
        if "TORCHELASTIC_RUN_ID" in os.environ:  # a torchrun worker: join the job channel
            from .job import start

            start()
            if os.environ.get("DAIFU_JOB", "1") != "0":
                from .steps import install as count_steps

                count_steps()  # the survivors of a lost rank compare their optimizer steps
                from .collectives import install as keep_reduced_tensors

                # a metric's all-reduce the lost peer cut short, put back; subgroups noted
                keep_reduced_tensors()


def crash(exc: BaseException) -> object:
    """The crash barrier: ``None`` to let *exc* propagate, or the plan that resumes.

    Only ``Exception`` instances that nothing would handle are intercepted; interrupts, exits
    and the iteration and generator protocols always pass.
    """
    if type(exc) is _Hold:  # another rank crashed: hold here (daifu raised it, daifu takes it)
        from .barrier import hold

        return hold(exc, _sys._getframe(1))
    if not isinstance(exc, Exception) or isinstance(exc, (StopIteration, StopAsyncIteration, RecursionError)):
        if type(exc) is _Restore:  # a new process resuming this function (``restart``)
            from .barrier import crash as restore

            return restore(exc, _sys._getframe(1))
        return None
    frame = _sys._getframe(1)
    global _intercept
    if _intercept is None:  # imported on first use: a program that never raises never loads it
        try:
            # A protocol's signal is decided here, loading nothing (once the runtime is loaded
            # its cached verdicts are cheaper than these lookups).
            if getattr(exc, _MARK, None) is not None:
                return None  # decided by an inner barrier
            reason = _protocol_verdict(frame.f_code.co_name, exc)
            if reason is not None:
                setattr(exc, _MARK, f"passed: {reason}")
                return None
        except Exception:  # an exception type with odd attribute hooks: let the runtime decide
            pass
        try:
            from .barrier import crash as _intercept
        except Exception as failure:  # the program's exception must go on as it was
            # The runtime imports parts of the standard library (ast, traceback, ...). If one of
            # them is the module being imported right now (a vaccinated module the standard
            # library depends on) or a project file shadows one, the import fails; the program's
            # own exception then passes as it would without daifu, and a later one tries again.
            _unavailable(exc, failure)
            return None
    return _intercept(exc, frame)  # type: ignore[misc]  # set just above


def _unavailable(exc: BaseException, failure: Exception) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(
            f"daifu: the crash runtime could not be loaded ({type(failure).__name__}: {failure}); "
            f"{type(exc).__name__} passes through as it would without daifu",
            file=_sys.stderr,
        )


#: barrier.crash, once a barrier has caught something (an import per call cost ~2 us each time
#: a handled exception crossed a vaccinated function).
_intercept = None
_warned = False
#: Whether this process looked for ``DAIFU_RESUME`` (at the first vaccinated module).
_resume_checked = False


class _DaifuFallback:
    """Serves ``import daifu`` from the copy of daifu's marker package shipped in the shim
    (``daifu_compat.py``) when the training environment has no ``daifu`` installed: a program
    that marks functions with ``@daifu.transform`` or logs through ``daifu.logger`` runs from
    the output with nothing but its own dependencies. Placed last on ``sys.meta_path``, it is
    asked only after every other finder failed, so an installed ``daifu`` always wins and
    other imports never reach it."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> object:
        if name != "daifu":
            return None
        import os
        from importlib.util import spec_from_file_location

        compat = os.path.join(os.path.dirname(__file__), "daifu_compat.py")
        return spec_from_file_location("daifu", compat) if os.path.isfile(compat) else None


_sys.meta_path.append(_DaifuFallback)  # type: ignore[arg-type]
_builtins.__daifu__ = _sys.modules[__name__]  # type: ignore[attr-defined]
_install_positions()
