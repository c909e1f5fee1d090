"""Options of a vaccination: command line over ``[tool.daifu]`` over defaults.

``[tool.daifu]`` in the input project's ``pyproject.toml``::

    [tool.daifu]
    policy = "default"            # or "marked", "all"
    select = ["train.py::train"]  # PATH::QUALNAME patterns (see `daifu vaccinate --help`)
    exclude = ["scripts/*"]
    format = true                 # black-format the lines daifu writes
    link-threshold = "16MiB"      # hard-link files at least this big (or false: copy all)

    [tool.daifu.runtime]          # baked into the output's .daifu/config.json
    max-wait = 3600               # seconds to wait for a fix (none: forever)
    oom-retries = 2
    oom-hook = "train:halve_batch"
    transient = [{type = "OSError", match = "Input/output error"}]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_LINK_THRESHOLD = 16 * 1024 * 1024


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class ProjectConfig:
    policy: str = "default"
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    format: bool = True
    line_length: int = 88
    link_threshold: int | None = DEFAULT_LINK_THRESHOLD
    runtime: dict[str, Any] = field(default_factory=dict)


def read_tool_config(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    section = data.get("tool", {}).get("daifu", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.daifu] must be a table")
    return section


def merge(root: Path, **cli: Any) -> ProjectConfig:
    """Combine ``[tool.daifu]`` with command-line values (``None`` means "not given")."""
    tool = read_tool_config(root)
    known = {"policy", "select", "exclude", "format", "line-length", "link-threshold", "runtime"}
    unknown = sorted(set(tool) - known)
    if unknown:
        raise ConfigError(f"[tool.daifu]: unknown keys {', '.join(unknown)}")
    policy = cli.get("policy") or tool.get("policy", "default")
    if policy not in ("default", "marked", "all"):
        raise ConfigError(f"policy must be default, marked or all, not {policy!r}")
    select = tuple(tool.get("select", ())) + tuple(cli.get("select") or ())
    exclude = tuple(tool.get("exclude", ())) + tuple(cli.get("exclude") or ())
    fmt = cli.get("format")
    threshold = tool.get("link-threshold", DEFAULT_LINK_THRESHOLD)
    if cli.get("link_threshold") is not None:
        threshold = cli["link_threshold"]
    if cli.get("copy_all"):
        threshold = None
    return ProjectConfig(
        policy=policy,
        select=select,
        exclude=exclude,
        format=bool(tool.get("format", True)) if fmt is None else fmt,
        line_length=int(tool.get("line-length", 88)),
        link_threshold=parse_size(threshold),
        runtime=dict(tool.get("runtime", {})),
    )


def parse_size(value: Any) -> int | None:
    """``16MiB``, ``1G``, ``4096`` -> bytes; ``False``/``none`` -> ``None`` (never link)."""
    if value in (None, False) or (isinstance(value, str) and value.lower() in ("none", "false", "off")):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*", str(value))
    if not match:
        raise ConfigError(f"not a size: {value!r}")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** "_KMGT".index(unit or "_"))
