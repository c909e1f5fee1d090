"""Runtime settings: defaults, then ``.daifu/config.json`` (written by ``daifu vaccinate``
from ``[tool.daifu.runtime]``), then ``.daifu/patches/policy.json`` (changeable during a
run), then environment variables (``DAIFU_MAX_WAIT``, ``DAIFU_DISABLE``, ``DAIFU_HOME``,
``DAIFU_CONSOLE``, ``DAIFU_QUIET``, ``DAIFU_WAIT``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

DEFAULT_TRANSIENT = [
    {"type": "ConnectionError"},
    {"type": "TimeoutError"},
    {"type": "InterruptedError"},
    {"type": "BlockingIOError"},
    {"type": "OSError", "match": r"Input/output error|Stale file handle|Temporary failure|temporarily unavailable"},
    {
        "type": "RuntimeError",
        "match": r"DataLoader worker \(pid.*\) (exited unexpectedly|is killed)|Connection (reset|refused|timed out)|NCCL.*(timeout|unhandled system error)",
    },
]


@dataclass
class TransientRule:
    type: str
    match: str | None = None

    def applies(self, exc: BaseException) -> bool:
        names = {cls.__name__ for cls in type(exc).__mro__} | {
            f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__
        }
        if self.type not in names:
            return False
        return self.match is None or re.search(self.match, str(exc)) is not None


@dataclass
class Config:
    home: Path
    #: Seconds to wait for a fix before the crash propagates (``None``: no limit).
    max_wait: float | None = 6 * 3600.0
    #: Wait for a human at all (off: only automatic policies, then the crash propagates).
    wait: bool = True
    transient: list[TransientRule] = field(default_factory=list)
    transient_retries: int = 3
    transient_backoff: float = 0.1
    oom_retries: int = 3
    #: Seconds before the first out-of-memory retry, doubled each time (GPU contention clears).
    oom_backoff: float = 0.5
    #: ``"module:function"`` called with the context before an out-of-memory retry.
    oom_hook: str | None = None
    poll_interval: float = 0.01
    #: Settle time: a patch file must stay unchanged this long before it is applied.
    settle: float = 0.02
    console: str = "auto"
    quiet: bool = False
    disabled: bool = False
    #: Save a just-in-time checkpoint before waiting (see :mod:`.jit`).
    jit_checkpoint: bool = True
    #: Automatic recovery (transient retries, out-of-memory); off with DAIFU_POLICIES=0.
    policies: bool = True


def default_home() -> Path:
    env = os.environ.get("DAIFU_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / ".daifu"


def load(home: Path | None = None) -> Config:
    home = home or default_home()
    config = Config(home=home, transient=[TransientRule(**r) for r in DEFAULT_TRANSIENT])
    for path in (home / "config.json", home / "patches" / "policy.json"):
        _apply(config, _read_json(path))
    _apply_env(config)
    return config


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _apply(config: Config, data: dict[str, Any]) -> None:
    data = data.get("runtime", data)
    simple: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "max-wait": ("max_wait", _seconds),
        "wait": ("wait", bool),
        "transient-retries": ("transient_retries", int),
        "transient-backoff": ("transient_backoff", float),
        "oom-retries": ("oom_retries", int),
        "oom-backoff": ("oom_backoff", float),
        "oom-hook": ("oom_hook", str),
        "poll-interval": ("poll_interval", float),
        "settle": ("settle", float),
        "console": ("console", str),
        "quiet": ("quiet", bool),
        "jit-checkpoint": ("jit_checkpoint", bool),
    }
    for key, value in data.items():
        key = key.replace("_", "-")
        if key in simple:
            name, convert = simple[key]
            setattr(config, name, convert(value))
        elif key == "transient":
            config.transient += [TransientRule(**r) for r in value]


def _seconds(value: Any) -> float | None:
    if value in (None, "", "none", "inf", 0, "0") and value != 0:
        return None
    number = float(value)
    return None if number < 0 else number


def _apply_env(config: Config) -> None:
    env = os.environ
    if "DAIFU_MAX_WAIT" in env:
        config.max_wait = _seconds(env["DAIFU_MAX_WAIT"])
    if env.get("DAIFU_WAIT") in ("0", "false", "no"):
        config.wait = False
    if env.get("DAIFU_POLICIES") in ("0", "false", "no"):
        config.policies = False
    if env.get("DAIFU_DISABLE") in ("1", "true", "yes"):
        config.disabled = True
    if "DAIFU_CONSOLE" in env:
        config.console = env["DAIFU_CONSOLE"]
    if env.get("DAIFU_QUIET") in ("1", "true", "yes"):
        config.quiet = True
