"""The command line: vaccinate, --check/--diff exit codes, --explain, bad input, refusals."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daifu_cli.cli import app

runner = CliRunner()

TRAIN = '''\
"""Train a model."""
import json


def train(steps):
    losses = []
    for step in range(steps):  # the loop
        losses.append(1 / (step + 1))
    return losses


def helper(x):
    return x * 2


if __name__ == "__main__":
    print(json.dumps(train(3)))
'''


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(TRAIN)
    (root / "config.yaml").write_text("lr: 0.1\n")
    (root / "data").mkdir()
    (root / "data" / "big.bin").write_bytes(os.urandom(64 * 1024))
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "model.py").write_text("class Net:\n    def fit(self, xs):\n        for x in xs:\n            yield x\n")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_vaccinate_copies_every_file_and_never_touches_the_input(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    before = tree_digest(src)
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "out"))
    assert code == 0, output
    assert tree_digest(src) == before
    out = tmp_path / "out"
    assert (out / "config.yaml").read_text() == "lr: 0.1\n"
    assert (out / "data" / "big.bin").read_bytes() == (src / "data" / "big.bin").read_bytes()
    assert (out / "_daifu_shim" / "__init__.py").is_file()
    assert (out / ".daifu" / "manifest.json").is_file()
    assert (out / ".daifu" / "linemaps" / "train.py.json").is_file()
    assert "vaccinated train.py: train" in output
    # named at its def line, like --explain; the yield that decided it is in the reason
    assert "skipped pkg/model.py:2: Net.fit: generator function: its frames cannot be resumed (line 4)" in output
    assert "1 file vaccinated (1 function, 0 scripts), 1 function left as it was, 4 files copied" in output
    result = subprocess.run([sys.executable, "train.py"], cwd=out, capture_output=True, text=True)
    assert result.stdout == "[1.0, 0.5, 0.3333333333333333]\n", result.stderr


def test_big_files_are_hard_linked_unless_told_otherwise(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    code, _ = invoke("vaccinate", str(src), "-o", str(tmp_path / "a"), "--link-threshold", "32KiB")
    assert code == 0
    assert os.stat(tmp_path / "a" / "data" / "big.bin").st_ino == os.stat(src / "data" / "big.bin").st_ino
    code, _ = invoke("vaccinate", str(src), "-o", str(tmp_path / "b"), "--copy-all")
    assert code == 0
    assert os.stat(tmp_path / "b" / "data" / "big.bin").st_ino != os.stat(src / "data" / "big.bin").st_ino


def test_second_run_is_byte_identical_and_check_passes(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    first = tree_digest(out)
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--check")
    assert code == 0, output
    assert "the output is current" in output
    assert invoke("vaccinate", str(src), "-o", str(out), "--force")[0] == 0
    assert tree_digest(out) == first


def test_check_and_diff_report_a_stale_output(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    (src / "train.py").write_text(TRAIN.replace("step + 1", "step + 2"))
    (src / "config.yaml").write_text("lr: 0.2\n")
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--check")
    assert code == 1
    assert "would revaccinate train.py" in output and "would update config.yaml" in output
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--diff")
    assert code == 1
    assert "--- train.py\t(on disk)" in output
    assert any(line.startswith("+") and "losses.append(1 / (step + 2))" in line for line in output.splitlines())
    # nothing was written
    assert "step + 1" in (out / "train.py").read_text()


def test_check_without_an_output_says_everything_would_change(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "missing"), "--check")
    assert code == 1 and "would revaccinate train.py" in output


def test_syntax_errors_are_reported_copied_and_the_rest_processed(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    (src / "broken.py").write_text("def f(:\n    pass\n")
    (src / "latin.py").write_bytes(b"# -*- coding: ascii -*-\nx = '\xe9'\n")
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "out"))
    assert code == 123
    assert "error: cannot vaccinate broken.py:1: syntax error" in output
    assert "error: cannot vaccinate latin.py:1: cannot decode" in output
    assert (tmp_path / "out" / "broken.py").read_bytes() == (src / "broken.py").read_bytes()
    assert "vaccinated train.py" in output


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("same", "the output folder is the input folder"),
        ("inside", "is inside the input"),
        ("foreign", "is not a daifu output; refusing to overwrite it"),
        ("earlier", "holds an earlier daifu output; pass --force"),
    ],
)
def test_dangerous_outputs_are_refused(tmp_path: Path, where: str, message: str) -> None:
    src = make_project(tmp_path / "proj")
    out = {"same": src, "inside": src / "vax", "foreign": tmp_path / "foreign", "earlier": tmp_path / "earlier"}[where]
    if where == "foreign":
        out.mkdir()
        (out / "precious.txt").write_text("keep me")
    if where == "earlier":
        assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    before = tree_digest(src)
    code, output = invoke("vaccinate", str(src), "-o", str(out))
    assert code == 2
    assert message in output
    assert tree_digest(src) == before
    if where == "foreign":
        assert (out / "precious.txt").read_text() == "keep me"


def test_output_appears_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    before = tree_digest(out)
    import daifu_cli.files

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(daifu_cli.files, "place", fail)
    (src / "train.py").write_text(TRAIN.replace("step + 1", "step + 3"))
    result = runner.invoke(app, ["vaccinate", str(src), "-o", str(out), "--force"])
    assert result.exit_code != 0
    assert tree_digest(out) == before, "a failed build must leave the earlier output as it was"
    assert not [p for p in tmp_path.iterdir() if "daifu-tmp" in p.name]


def test_explain_lists_every_function_with_a_reason(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "out"), "--explain")
    assert code == 0
    assert "train.py:5: train: vaccinated: contains a loop" in output
    assert "train.py:12: helper: not selected: no loop" in output
    assert "pkg/model.py:2: Net.fit: not vaccinated: generator function" in output


def test_select_exclude_policy_and_pyproject(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    code, output = invoke(
        "vaccinate", str(src), "-o", str(tmp_path / "a"), "--select", "train.py::helper", "--exclude", "*::train", "--explain"
    )
    assert code == 0
    assert "train.py:12: helper: vaccinated: selected by 'train.py::helper'" in output
    assert "train.py:5: train: not selected: excluded by '*::train'" in output
    (src / "pyproject.toml").write_text('[tool.daifu]\npolicy = "marked"\nselect = ["train.py"]\n')
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "b"), "--explain")
    assert code == 0
    assert "helper: vaccinated: selected by 'train.py'" in output
    (src / "pyproject.toml").write_text('[tool.daifu]\npolicy = "sometimes"\n')
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "c"))
    assert code == 2 and "policy must be default, marked or all" in output


def test_marker_decorator_selects_and_is_dropped(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    src.mkdir()
    (src / "main.py").write_text(
        "import daifu\n\n\n@daifu.transform()\ndef step(x):\n    return x + 1\n\n\nprint(step(1))\n"
    )
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "out"), "--explain")
    assert code == 0
    assert "main.py:5: step: vaccinated: marked @daifu.transform()" in output
    text = (tmp_path / "out" / "main.py").read_text()
    assert "@daifu.transform" not in text and "crash barrier for step()" in text


@pytest.mark.parametrize("command", ["vaccinate", "patch", "status", "attach", "demo", "bench"])
def test_help_reads_like_black(command: str) -> None:
    """Flags show no value hint, arguments no braces or types, defaults only where they
    say something; the everyday commands end with examples."""
    code, output = invoke(command, "--help")
    assert code == 0, output
    for noise in ("<bool>", "<list", "<path>", "<str>", "<int>", "{", "[default: 0]", "[default: False]"):
        assert noise not in output, (noise, output)
    assert output.startswith(f"Usage: daifu {command} [OPTIONS]")
    if command in ("vaccinate", "patch", "status", "attach"):
        assert "Examples:\n    daifu " + command in output, output


def test_help_and_version() -> None:
    code, output = invoke("--help")
    assert code == 0 and "vaccinate" in output and "attach" in output
    code, output = invoke("vaccinate", "--help")
    assert code == 0 and "--check" in output and "--explain" in output
    code, output = invoke("--version")
    assert code == 0 and output.startswith("daifu ")


def test_patch_requires_an_earlier_output(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    code, output = invoke("patch", str(src), "-o", str(tmp_path / "nothing"))
    assert code == 2 and "is not a daifu output" in output
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0 and "nothing changed" in output
    (src / "train.py").write_text(TRAIN.replace("step + 1", "step + 5"))
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0 and "patched train.py" in output
    assert "step + 5" in (out / "train.py").read_text()
    assert invoke("vaccinate", str(src), "-o", str(out), "--check")[0] == 0


def test_scripts_in_subfolders_find_the_shim(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    (src / "tools").mkdir(parents=True)
    (src / "tools" / "train.py").write_text("total = 0\nfor i in range(3):\n    total += i\nprint('total', total)\n")
    assert invoke("vaccinate", str(src), "-o", str(tmp_path / "out"))[0] == 0
    assert (tmp_path / "out" / "tools" / "_daifu_shim.py").is_file()
    result = subprocess.run([sys.executable, "tools/train.py"], cwd=tmp_path / "out", capture_output=True, text=True)
    assert result.stdout == "total 3\n", result.stderr


def test_the_pre_commit_hooks_run_the_check(tmp_path: Path) -> None:
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "entry: daifu vaccinate --check" in hooks
    src = make_project(tmp_path / "proj")
    assert invoke("vaccinate", str(src), "-o", str(tmp_path / "vax"))[0] == 0
    code, _ = invoke("vaccinate", "--check", str(src), "-o", str(tmp_path / "vax"))
    assert code == 0


def test_a_module_rebinding_a_name_the_barriers_read_is_left_as_it_was(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    src.mkdir()
    text = "def train(batches):\n    for b in batches:\n        print(b)\n\n\nBaseException = Exception\n"
    (src / "train.py").write_text(text)
    code, output = invoke("vaccinate", str(src), "-o", str(tmp_path / "out"), "--policy", "all")
    assert code == 0, output
    assert "skipped train.py:1: train: the module binds the name 'BaseException', which daifu's crash barriers read (line 6)" in output
    assert (tmp_path / "out" / "train.py").read_text() == text


def test_empty_folders_are_part_of_the_output(tmp_path: Path) -> None:
    """A program that saves into its project's empty folder (or one holding only skipped
    things) runs vaccinated as it runs plain; --check notices a missing one, patch brings one."""
    src = tmp_path / "proj"
    (src / "checkpoint").mkdir(parents=True)
    (src / "logs" / "__pycache__").mkdir(parents=True)
    (src / "logs" / "__pycache__" / "x.pyc").write_bytes(b"")
    (src / "train.py").write_text(
        "for step in range(2):\n    pass\n"
        "open('checkpoint/last.txt', 'w').write(str(step))\n"
        "open('logs/run.txt', 'w').write('ok')\nprint('saved')\n"
    )
    plain = subprocess.run([sys.executable, "train.py"], cwd=src, capture_output=True, text=True)
    assert plain.stdout == "saved\n", plain.stderr
    for made in ("checkpoint/last.txt", "logs/run.txt"):
        (src / made).unlink()
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    assert (out / "checkpoint").is_dir() and (out / "logs").is_dir()
    result = subprocess.run([sys.executable, "train.py"], cwd=out, capture_output=True, text=True)
    assert result.stdout == "saved\n", result.stderr
    (out / "logs" / "run.txt").unlink()
    (out / "logs").rmdir()
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--check")
    assert code == 1 and "logs/" in output, output
    (src / "samples").mkdir()
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 0 and "samples/" in output, output
    assert (out / "samples").is_dir() and (out / "logs").is_dir()


PROTOTYPE_PROGRAM = '''\
import daifu


@daifu.transform(globals())
def train(steps):
    total = 0
    for step in range(steps):
        total += step
    daifu.logger.info("total {} after {} steps", total, steps)
    return total


print(train(4))
daifu.logger.success("done")
daifu.log_program_end(0.75)
'''


def test_programs_written_for_the_research_prototype_run_unchanged(tmp_path: Path) -> None:
    """`@daifu.transform(globals())`, `daifu.logger` and `daifu.log_program_end()` work in the
    original and in the output, also where daifu is not installed (`-S`: no site-packages)."""
    src = tmp_path / "proj"
    src.mkdir()
    (src / "train.py").write_text(PROTOTYPE_PROGRAM)
    out = tmp_path / "out"
    code, output = invoke("vaccinate", str(src), "-o", str(out), "--explain")
    assert code == 0 and "train: vaccinated: marked @daifu.transform()" in output, output
    assert "@daifu.transform" not in (out / "train.py").read_text()

    def run(folder: Path, *flags: str) -> tuple[str, list[str]]:
        result = subprocess.run([sys.executable, *flags, "train.py"], cwd=folder, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout, [line.split(" | ", 1)[1] for line in result.stderr.splitlines()]

    expected = ("6\n", ["INFO     | total 6 after 4 steps", "SUCCESS  | done", "INFO     | Program End with Quality Measure 0.75"])
    assert run(src) == expected
    assert run(out) == expected
    assert run(out, "-S") == expected


def test_a_patch_that_does_not_parse_is_an_error_where_the_person_ran_it(tmp_path: Path) -> None:
    src = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    assert invoke("vaccinate", str(src), "-o", str(out))[0] == 0
    before = (out / "train.py").read_bytes()
    (src / "train.py").write_text(TRAIN.replace("losses.append(1 / (step + 1))", "losses.append(1 / (step + 1)"))
    (src / "config.yaml").write_text("lr: 0.5\n")
    code, output = invoke("patch", str(src), "-o", str(out))
    assert code == 123, output
    assert f"error: {src / 'train.py'}:8:" in output and "not patched" in output, output
    assert "patched" not in output.replace("not patched", "")
    assert (out / "train.py").read_bytes() == before  # nothing of the fix landed
    assert (out / "config.yaml").read_text() == "lr: 0.1\n"
