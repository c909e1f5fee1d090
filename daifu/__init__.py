"""DaiFu-compatible names for the original (not vaccinated) program; standard library only.

``@daifu.transform()`` marks a function for ``daifu vaccinate``; in the original program it
changes nothing, and the vaccinated copy drops it. Programs written for the research prototype
also pass ``globals()`` to it, log through ``daifu.logger`` (loguru's logger there) and call
``daifu.log_program_end()``: those are accepted too, so such a program runs unchanged.

A vaccinated output ships this file inside its runtime shim, and serves it as ``daifu`` when
the training environment has no ``daifu`` installed (the output needs nothing but the
project's own dependencies).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["log_program_end", "logger", "transform"]


def transform(*args: Any, **kwargs: Any) -> Any:
    """Mark a function for vaccination; usable as ``@transform``, ``@transform()`` or the
    prototype's ``@transform(globals())`` (the namespace is not needed: daifu reads the
    module's own globals)."""
    if len(args) == 1 and callable(args[0]) and not kwargs and not isinstance(args[0], dict):
        return args[0]

    def mark(function: F) -> F:
        return function

    return mark


#: loguru's level names and numbers (``exception`` logs at ERROR with the traceback).
_LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50, "EXCEPTION": 40}


class _Logger:
    """The part of loguru's logger that training programs call, over :mod:`logging`.

    Messages go to stderr as loguru's default sink does (``time | LEVEL | message``), through
    the ``daifu.program`` logger, so a program's own logging configuration can redirect them.
    ``{}`` placeholders are filled with ``str.format`` as loguru does. ``add`` and ``remove``
    (sinks) are accepted and do nothing: daifu keeps its own log in ``.daifu/log.jsonl``.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger("daifu.program")
        self._ready = False

    def _emit(self, level: str, message: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._ready:  # set up on first use: importing daifu configures nothing
            self._ready = True
            if not self._logger.handlers:
                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(
                    logging.Formatter("%(asctime)s | %(levelname)-8s | %(message)s")
                )
                self._logger.addHandler(handler)
                self._logger.setLevel(logging.DEBUG)
                self._logger.propagate = False
            logging.addLevelName(25, "SUCCESS")
        text = str(message)
        if args or kwargs:
            try:
                text = text.format(*args, **kwargs)
            except (IndexError, KeyError, ValueError):
                text = " ".join([text, *map(str, args)])
        number = _LEVELS.get(level, logging.INFO)
        self._logger.log(number, text, exc_info=level == "EXCEPTION" or None)

    def trace(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("TRACE", message, args, kwargs)

    def debug(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("DEBUG", message, args, kwargs)

    def info(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("INFO", message, args, kwargs)

    def success(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("SUCCESS", message, args, kwargs)

    def warning(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("WARNING", message, args, kwargs)

    def error(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("ERROR", message, args, kwargs)

    def critical(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("CRITICAL", message, args, kwargs)

    def exception(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit("EXCEPTION", message, args, kwargs)

    def log(self, level: str | int, message: Any, *args: Any, **kwargs: Any) -> None:
        name = level if isinstance(level, str) else logging.getLevelName(level)
        self._emit(str(name).upper(), message, args, kwargs)

    def add(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def remove(self, *args: Any, **kwargs: Any) -> None:
        return None


#: The prototype's ``daifu.logger``.
logger = _Logger()


def log_program_end(value: Any = "", folder: Any = None, milestone: bool = False) -> None:
    """The prototype's end-of-run marker: logs ``Program End`` (with the quality measure when
    one is given). Its copies of an experiment log (*folder*, *milestone*) mean nothing here:
    daifu records every crash, patch and resume in ``.daifu/log.jsonl``."""
    suffix = f" with Quality Measure {value}" if value != "" else ""
    logger.info("Program End" + suffix)
