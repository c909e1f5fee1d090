"""What daifu says while a run waits is true and names real things: the patch command with
this run's folders, what a fix applied, what a snippet changed or left behind."""

from __future__ import annotations

import shlex
from pathlib import Path

from typer.testing import CliRunner

from daifu_cli.cli import app
from tests.recovery import Run

SCRIPT = "import math\nLRS = []\nfor i in range(3):\n    x = 1 / (i - 1)\n    print('step', i)\nprint('done')\n"


def test_the_waiting_message_gives_the_patch_command_with_real_paths(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": SCRIPT}).start()
    try:
        run.wait_waiting()
        run.snippet("import os\nLRS.append(1.0)\nraise ValueError('oops')\n", name="broken.py")
        run.snippet("import os\nx = os.sep\ndaifu.skip()\n", name="fix.py")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 0, err
    command = f"daifu patch {shlex.quote(str(run.src.resolve()))} -o {shlex.quote(str(run.out))}"
    assert command in err and "<project>" not in err, err
    assert "None of its assignments took effect; what it changed inside objects before raising" in err
    assert "applied action snippet fix.py (changed: x)" in err, err  # `import os` is no change


def test_a_fix_of_script_level_code_says_what_it_applied(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": SCRIPT}).start()
    try:
        run.wait_waiting()
        run.patch("x = 1 / (i - 1)", "x = 1 / (i + 1)")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 0, err
    assert "applied new code of __main__: its script-level code" in err, err
    assert "no function changed" not in err


def test_explain_and_the_summary_name_a_skipped_function_at_its_def_line(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    src.mkdir()
    (src / "gen.py").write_text("def batches(n):\n    for i in range(n):\n        yield i\n")
    result = CliRunner().invoke(app, ["vaccinate", str(src), "-o", str(tmp_path / "out"), "--explain", "--policy", "all"])
    assert result.exit_code == 0, result.output
    reason = "batches: not vaccinated: generator function: its frames cannot be resumed (line 3)"
    assert f"gen.py:1: {reason}" in result.output, result.output
    assert "skipped gen.py:1: batches: generator function: its frames cannot be resumed (line 3)" in result.output
