"""SIGTERM that lands while an action snippet or a console command runs acts as it does while
waiting: a process checkpoint when the state changed, then death by the signal (status 143).
It used to be reported as the snippet's exception, and the run kept waiting."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.recovery import Run, wait_event
from tests.test_restart import daifu_resume

PROGRAM = """
history = []


def train():
    for i in range(3):
        history.append(i)
        x = 1 / (i - 1)
    print("done", history, flush=True)


train()
"""

#: Changes the state inside an object, says it started, then runs long enough to be signalled.
SLOW = "history.append(99); import pathlib, time; pathlib.Path({mark!r}).write_text('x'); time.sleep(60)"


def _terminate_once_started(run: Run, mark: Path) -> tuple[int, str]:
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert time.monotonic() < deadline, "the slow snippet never started"
        assert run.process is not None and run.process.poll() is None, run.finish()
        time.sleep(0.02)
    assert run.process is not None
    run.process.send_signal(signal.SIGTERM)
    code, _, err = run.finish(timeout=30)  # not the snippet's 60 s: the signal ends it
    return code, err


def _check_ended_by_sigterm_with_the_changed_state(run: Run, code: int, err: str) -> None:
    assert code == -signal.SIGTERM, err  # what a scheduler expects (a shell shows 143)
    assert "daifu: SIGTERM while waiting for a fix of ZeroDivisionError" in err, err
    assert "raised" not in err.split("Waiting for a fix")[-1], err  # not reported as the snippet's error
    saved = sorted((e["path"] for e in run.events() if e["event"] == "process-checkpoint"), key=len)
    assert len(saved) == 2, run.events()  # at the crash, and the state the snippet changed
    changed = saved[-1]
    assert f"`daifu resume {changed}`" in err
    run.patch("x = 1 / (i - 1)", "x = 1 / (i - 1 or 1)")
    resumed = daifu_resume(Path(changed))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "done [0, 1, 99, 2]\n"  # the snippet's append, then the rest of the loop


def test_sigterm_during_an_action_snippet_ends_the_run_with_a_checkpoint(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}).start()
    try:
        run.wait_waiting()
        mark = tmp_path / "started"
        run.snippet(SLOW.format(mark=str(mark)).replace("; ", "\n") + "\n")
        code, err = _terminate_once_started(run, mark)
    finally:
        run.kill()
    _check_ended_by_sigterm_with_the_changed_state(run, code, err)


def test_sigterm_during_a_console_command_ends_the_run_with_a_checkpoint(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}).start()
    console = None
    try:
        run.wait_waiting()
        mark = tmp_path / "started"
        console = subprocess.Popen(
            [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert console.stdin is not None
        console.stdin.write("!" + SLOW.format(mark=str(mark)) + "\n")
        console.stdin.flush()
        code, err = _terminate_once_started(run, mark)
        console.stdin.close()
        console.wait(timeout=30)  # the run is gone: the console ends too
    finally:
        run.kill()
        if console is not None and console.poll() is None:
            console.kill()
            console.communicate()
    _check_ended_by_sigterm_with_the_changed_state(run, code, err)


def test_ctrl_c_during_an_action_snippet_interrupts_only_the_snippet(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": PROGRAM}).start()
    try:
        run.wait_waiting()
        mark = tmp_path / "started"
        run.snippet(SLOW.format(mark=str(mark)).replace("; ", "\n") + "\n")
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert time.monotonic() < deadline, "the slow snippet never started"
            time.sleep(0.02)
        assert run.process is not None
        run.process.send_signal(signal.SIGINT)
        refused = wait_event(run, "action")
        assert not refused["ok"] and "interrupted by Ctrl+C" in refused["error"], refused
        assert run.process.poll() is None and run.states()[0]["status"] == "waiting"  # still waiting
    finally:
        run.kill()
