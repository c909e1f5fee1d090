"""How runs end, said and recorded: a normal end, a give-up, SIGTERM and Ctrl+C while
waiting, a SIGKILL; `daifu status` shows each and prunes what is gone."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from typer.testing import CliRunner

from daifu_cli.cli import app
from tests.recovery import Run

runner = CliRunner()

CRASHES = "for i in range(3):\n    x = 1 / (i - 1)\nprint('done', x)\n"


def status(out: Path, *flags: str) -> tuple[int, str]:
    result = runner.invoke(app, ["status", str(out), *flags])
    return result.exit_code, result.output


def run_file(run: Run, pid: int) -> dict:  # type: ignore[type-arg]
    return json.loads((run.out / ".daifu" / "run" / f"{pid}.json").read_text())


def test_status_of_a_folder_that_is_not_an_output_is_an_error(tmp_path: Path) -> None:
    code, output = status(tmp_path)
    assert code == 2 and "is not a daifu output" in output


def test_a_resumed_run_that_finishes_is_recorded_as_finished(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    run.snippet("daifu.skip()\n")
    code, out, err = run.finish()
    assert code == 0 and "done" in out, err
    assert run_file(run, pid)["how"] == "finished"
    code, output = status(run.out, "--events", "0")
    assert code == 0 and f"pid {pid}: ended at" in output and "finished" in output, output
    assert "crash:" not in output  # --events 0 shows none
    code, output = status(run.out, "--prune")
    assert "removed 1 run files" in output and not list((run.out / ".daifu" / "run").glob("*.json"))


def test_a_given_up_run_is_recorded_with_its_exception(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    run.snippet("daifu.give_up()\n")
    code, _, err = run.finish()
    assert code == 1 and err.strip().endswith("ZeroDivisionError: division by zero"), err
    assert run_file(run, pid)["how"] == "uncaught ZeroDivisionError (given up)"


def test_sigterm_while_waiting_says_so_and_dies_of_the_signal(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    assert run.process is not None
    run.process.send_signal(signal.SIGTERM)
    code, _, err = run.finish()
    assert code == -signal.SIGTERM  # what a scheduler expects (a shell shows 143)
    assert "daifu: SIGTERM while waiting for a fix of ZeroDivisionError at" in err, err
    assert "Traceback" not in err.split("Waiting for a fix")[-1]
    assert run_file(run, pid)["how"] == "killed by signal 15 (SIGTERM) while waiting for a fix"
    assert any(e["event"] == "stopped" for e in run.events())


def test_ctrl_c_while_waiting_gives_up_without_daifu_frames(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    assert run.process is not None
    run.process.send_signal(signal.SIGINT)
    code, _, err = run.finish()
    assert code == 1, err
    after = err.split("Waiting for a fix")[-1]
    assert "daifu: interrupted while waiting (Ctrl+C); the original ZeroDivisionError propagates" in after
    assert "KeyboardInterrupt" not in after and "waiting.py" not in after, after
    assert run_file(run, pid)["how"].startswith("uncaught ZeroDivisionError (interrupted")


def test_a_killed_run_shows_as_gone_and_is_pruned(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    run.kill()
    code, output = status(run.out)
    assert code == 0 and f"pid {pid}: gone (it was waiting" in output, output
    code, output = status(run.out, "--prune")
    assert f"pid {pid}" in output.splitlines()[0]
    assert not list((run.out / ".daifu" / "run").glob("*"))


TWO_CRASHES = "for i in range(3):\n    x = 1 / (i - 1)\ny = [][0]\nprint('done')\n"


def test_attach_follows_the_run_through_repeated_crashes_and_ends_with_it(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    run = Run(tmp_path, {"main.py": TWO_CRASHES}).start()
    pid = run.wait_waiting()["pid"]
    console = subprocess.Popen(
        [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert console.stdin is not None
        console.stdin.write("skip\n")
        console.stdin.flush()
        run.wait_waiting(count=2)  # crashed again, at the IndexError
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "IndexError" not in (run.states()[0].get("exception") or ""):
            time.sleep(0.05)
        console.stdin.write("skip\n")  # the console followed: this reaches the second wait
        console.stdin.flush()
        console.wait(timeout=60)  # it ends with the run, its input still open
        assert console.stdout is not None and console.stderr is not None
        out, err = console.stdout.read(), console.stderr.read()
    finally:
        console.kill()
        run.kill()
    assert console.returncode == 0, err
    assert out.count("Waiting for a fix") == 2 and "IndexError" in out, out
    assert f"daifu: pid {pid} resumed; following it" in err
    assert f"daifu: pid {pid} ended: finished" in err, err
