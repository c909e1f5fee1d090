"""A library whose deprecated API warns with stacklevel=2 (the warning names the caller)."""
import contextlib
import warnings


def old_api(x):
    with contextlib.nullcontext():
        warnings.warn("old_api is deprecated", DeprecationWarning, stacklevel=2)
        return x * 2


def old_api_finally(x):
    try:
        return x + 1
    finally:
        warnings.warn("old_api_finally is deprecated", DeprecationWarning, stacklevel=2)
