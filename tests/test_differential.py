"""Differential execution: each program of ``tests/programs`` runs original and vaccinated
(every function and the script vaccinated) in fresh interpreters; stdout, the exit status and
the final exception must be the same. Each file of the output also keeps what Python reads
from its first lines (encoding, BOM, shebang, coding line), its line endings, every comment of
the input and every line of the input but those the transform must change. ``--target-python`` picks the interpreter (nox runs this
on 3.9 to 3.13). Programs in ``programs/torch/`` need PyTorch.
"""

from __future__ import annotations

import io
import re
import shutil
import tokenize
from collections import Counter
from pathlib import Path

import pytest
from conftest import HAS_TORCH, changed_user_lines, run_python

from daifu_cli.options import ProjectConfig
from daifu_cli.project import Request, vaccinate_project

PROGRAMS = Path(__file__).parent / "programs"

#: Programs whose vaccinated run differs from the original, as README's "Limitations" says.
#: Strict: if one starts to pass, move it back into the plain corpus.
KNOWN_DEVIATIONS = {
    "caller_locals_lookup": "a cell adds a frame: a callee reading its caller's locals sees the cell's",
    "warnings_stacklevel": "a cell adds a frame: stacklevel counts it",
    "recursion_depth_cells": "a cell adds a frame: recursion through a with body hits the limit sooner",
    "iterator_protocol_hoist": "the loop calls __iter__ on the iterator once more",
    "iterator_without_iter_guarded": "an iterator without __iter__ raises TypeError where the program catches it",
    "iterator_without_iter_disabled": "an iterator without __iter__ is adapted only when the runtime is enabled",
    "loop_iterator_lifetime_more": "the saved iterator lives until the loop statement (or function) ends",
    "cell_unbound_local_inner_handler": "UnboundLocalError is converted at the cell's barrier, after handlers inside the cell",
    "positions_frames": "inspect, line events and debuggers see the vaccinated file's lines and daifu's frames",
}


def _case(path: Path) -> object:
    reason = KNOWN_DEVIATIONS.get(path.stem if path.suffix else path.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem if path.suffix else path.name, marks=marks)
PLAIN = sorted(p for p in PROGRAMS.glob("*.py"))
WITH_TORCH = sorted(PROGRAMS.glob("torch/*.py"))
MULTI = sorted(p for p in PROGRAMS.iterdir() if p.is_dir() and p.name != "torch" and not p.name.startswith("_"))


def _last_exception(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return lines[-1] if lines else ""


def _required_version(path: Path) -> tuple[int, ...]:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if first.startswith("# requires-python:"):
        return tuple(int(p) for p in first.split(":", 1)[1].strip().split("."))
    return (3, 9)


def _skip_if_too_old(path: Path, python: str) -> None:
    import subprocess

    version = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.split()
    if tuple(int(v) for v in version) < _required_version(path):
        pytest.skip(f"needs Python {'.'.join(map(str, _required_version(path)))}")


#: Programs about positions: their stderr (warnings, the traceback that ends the program) is
#: compared too, less daifu's own messages ("daifu: waiting is off ...").
COMPARE_STDERR = ("positions_",)


def _paths_named(text: str, src: Path, out: Path) -> str:
    """*text* with the two folders named: a position shown in the vaccinated copy must name
    the user's file (``<src>``), not the output's (``<out>``)."""
    for folder, name in ((out, "<out>"), (src, "<src>")):
        text = text.replace(str(folder.resolve()), name).replace(str(folder), name)
    return text


def _without_daifu(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("daifu: "))


def _addresses_named(text: str) -> str:
    return re.sub(r" at 0x[0-9a-f]+", " at 0x...", text)


def _compare(src: Path, main: str, tmp_path: Path, python: str, timeout: float = 120, name: str = "") -> None:
    out = tmp_path / "vax"
    outcome = vaccinate_project(Request(src, out, ProjectConfig(policy="all")))
    assert not outcome.errors, outcome.errors
    internal = [s for s in outcome.skipped if s[1][3]]
    assert not internal, internal
    # Either something is vaccinated, or everything was left as it was with a reason.
    assert outcome.functions + outcome.scripts > 0 or outcome.skipped, "nothing was selected"
    for path in sorted(src.rglob("*.py")):
        before, after = path.read_bytes(), (out / path.relative_to(src)).read_bytes()
        _same_file_properties(before, after, path)
        _same_comments(before, after, path)
        if before != after:
            text = before.decode(tokenize.detect_encoding(io.BytesIO(before).readline)[0])
            out_text = after.decode(tokenize.detect_encoding(io.BytesIO(after).readline)[0])
            changed = changed_user_lines(text.replace("\r\n", "\n"), out_text.replace("\r\n", "\n"))
            assert not changed, f"{path}: user lines changed (beyond re-indenting): {changed}"
    original = run_python(python, main, src, timeout=timeout)
    vaccinated = run_python(python, main, out, timeout=timeout)
    assert original.stdout, f"the program prints nothing:\n{original.stderr}"
    stdout = _paths_named(vaccinated.stdout, src, out)
    assert stdout == _paths_named(original.stdout, src, out), vaccinated.stderr
    assert vaccinated.returncode == original.returncode, vaccinated.stderr
    assert _last_exception(vaccinated.stderr) == _last_exception(original.stderr), vaccinated.stderr
    if name.startswith(COMPARE_STDERR):
        stderr = _addresses_named(_without_daifu(_paths_named(vaccinated.stderr, src, out)))
        assert stderr == _addresses_named(_paths_named(original.stderr, src, out))


def _same_file_properties(before: bytes, after: bytes, path: Path) -> None:
    """What Python reads from a file's first lines or bytes is the same in its output: the
    encoding (BOM, coding declaration), the shebang, the lines holding them, the line endings."""
    detect = lambda data: tokenize.detect_encoding(io.BytesIO(data).readline)[0]  # noqa: E731
    assert detect(after) == detect(before), path
    assert after.startswith(b"\xef\xbb\xbf") == before.startswith(b"\xef\xbb\xbf"), path
    first = before.split(b"\n", 2)[:2]
    keep = 0
    for index, line in enumerate(first):
        text = line.lstrip(b"\xef\xbb\xbf") if index == 0 else line
        if re.match(rb"^[ \t\f]*#.*?coding[:=]", text) or (index == 0 and text.startswith(b"#!")):
            keep = index + 1
    assert after.split(b"\n", 2)[:keep] == first[:keep], path
    assert (b"\r\n" in after) == (b"\r\n" in before), path


def _comments(data: bytes) -> Counter[str]:
    tokens = tokenize.tokenize(io.BytesIO(data).readline)
    return Counter(t.string for t in tokens if t.type == tokenize.COMMENT)


def _same_comments(before: bytes, after: bytes, path: Path) -> None:
    """Every comment of the input is in the output as many times (daifu's own come on top)."""
    try:
        written = _comments(before)
    except (SyntaxError, tokenize.TokenError):
        return  # not Python that reads: copied unchanged, and reported
    kept = _comments(after)
    changed = {c: (n, kept[c]) for c, n in written.items() if kept[c] != n}
    assert not changed, f"{path}: comments lost or repeated (in input, in output): {changed}"


@pytest.mark.parametrize("program", [_case(p) for p in PLAIN])
def test_program(program: Path, tmp_path: Path, target_python: str) -> None:
    _skip_if_too_old(program, target_python)
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(program, src / "main.py")
    _compare(src, "main.py", tmp_path, target_python, name=program.stem)


@pytest.mark.parametrize("project", [_case(p) for p in MULTI])
def test_project(project: Path, tmp_path: Path, target_python: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(project, src)
    _compare(src, "main.py", tmp_path, target_python, name=project.name)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TORCH, reason="needs PyTorch")
@pytest.mark.parametrize("program", WITH_TORCH, ids=[p.stem for p in WITH_TORCH])
def test_torch_program(program: Path, tmp_path: Path) -> None:
    import sys

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(program, src / "main.py")
    for extra in program.parent.glob(f"{program.stem}_*"):
        shutil.copy(extra, src / extra.name.split("_", 1)[1])
    _compare(src, "main.py", tmp_path, sys.executable, timeout=300, name=program.stem)
