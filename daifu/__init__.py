"""DaiFu-compatible marker for the original (not vaccinated) program.

``@daifu.transform()`` marks a function for ``daifu vaccinate``; in the original program it
changes nothing, and the vaccinated copy drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def transform(*args: Any, **kwargs: Any) -> Any:
    """Mark a function for vaccination; usable as ``@transform`` or ``@transform(...)``."""
    if len(args) == 1 and callable(args[0]) and not kwargs and not isinstance(args[0], dict):
        return args[0]

    def mark(function: F) -> F:
        return function

    return mark
