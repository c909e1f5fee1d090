"""A crashbench case: a small training project with a bug, its fix, and its metadata.

Each case is a folder ``crashbench/cases/<id>/`` with ``case.toml`` and the program files. See
``crashbench/README.md`` for the fields; :func:`load` reads them and :meth:`Case.materialize`
copies the program (with ``cb_support.py``) into a working folder, fixed or not.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES = Path(__file__).parent / "cases"
SUPPORT = Path(__file__).parent / "support.py"
SCENARIOS = (
    "api-misuse",
    "tensor-mismatch",
    "oom-bug",
    "device-oom",
    "path-problem",
    "exceptional-data",
    "nondeterministic",
)


@dataclass(frozen=True)
class Edit:
    file: str
    old: str
    new: str


@dataclass
class Case:
    id: str
    folder: Path
    scenario: str
    title: str
    program: str
    entry: str
    steps: int
    crash_step: int
    crash_point: str
    expected_exception: str
    gpu: bool = False
    edits: list[Edit] = field(default_factory=list)
    snippet: str | None = None
    #: Extra environment for every run (a transient fault's probability, say).
    env: dict[str, str] = field(default_factory=dict)
    #: ``automatic``: daifu recovers without a fix (transient faults, OOM policy).
    recovery: str = "fix"
    #: Files the harness never vaccinates (the support module always).
    exclude: list[str] = field(default_factory=list)
    #: Transient faults that fire once (``recovery = "automatic"``): the file, relative to
    #: the program folder, that the fault creates when it fires and whose presence keeps it
    #: from firing. crashbench deletes it before a run that must crash and creates it for
    #: runs that must not (the reference and overhead runs); a rerun keeps it.
    marker: str | None = None
    #: ``False`` when a recovered run legitimately ends with a different ``final:`` line than
    #: the fixed program run from scratch (say, a DataLoader worker's random stream restarts
    #: with the retried worker); ``equal_result_reason`` says why. Reported, not an error.
    equal_result: bool = True
    equal_result_reason: str = ""
    notes: str = ""

    def materialize(self, target: Path, fixed: bool = False) -> Path:
        """Copy the case's program into *target* (with the fix applied if *fixed*)."""
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.folder, target, ignore=shutil.ignore_patterns("case.toml", "__pycache__", "fix_*"))
        shutil.copy(SUPPORT, target / "cb_support.py")
        if fixed:
            self.apply_fix(target)
        return target

    def apply_fix(self, root: Path) -> None:
        for edit in self.edits:
            path = root / edit.file
            text = path.read_text(encoding="utf-8")
            if edit.old not in text:
                raise ValueError(f"{self.id}: fix text not found in {edit.file}: {edit.old!r}")
            path.write_text(text.replace(edit.old, edit.new, 1), encoding="utf-8")

    @property
    def snippet_text(self) -> str | None:
        if self.snippet is None:
            return None
        return (self.folder / self.snippet).read_text(encoding="utf-8")


def load(folder: Path) -> Case:
    data: dict[str, Any] = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    fix = data.pop("fix", {})
    edits = [Edit(**e) for e in fix.get("edits", [])]
    case = Case(folder=folder, edits=edits, snippet=fix.get("snippet"), **data)
    if case.scenario not in SCENARIOS:
        raise ValueError(f"{case.id}: unknown scenario {case.scenario!r}")
    if case.id != folder.name:
        raise ValueError(f"{folder}: id {case.id!r} must equal the folder name")
    return case


def all_cases() -> list[Case]:
    return [load(p) for p in sorted(CASES.iterdir()) if (p / "case.toml").is_file()]
