"""No other local user runs code in a training process, or reads what daifu keeps of it.

Snippets, re-vaccinated modules and console clients of another user are refused; the folders
and files of run state are owner-only whatever the umask. Tests that need a second user run
as root and act as `nobody` (uid 65534); elsewhere they skip with the reason.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.recovery import Run

CRASHES = "for i in range(3):\n    x = 1 / (i - 1)\nprint('done', x)\n"
OTHER = 65534  # nobody

as_root = pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0,
    reason="acting as a second local user needs root (the test impersonates uid 65534)",
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ready(run: Run) -> dict:  # type: ignore[type-arg]
    """Wait until the run waits with its console open (its folders made private by then)."""
    run.wait_waiting()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = [s for s in run.states() if s.get("socket")]
        if states:
            return states[0]
        time.sleep(0.02)
    raise AssertionError("the run never opened its console socket")


def said(run: Run, text: str, timeout: float = 20) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in run.events() if text in str(e.get("error", ""))]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no event with {text!r}: {run.events()}")


def test_run_state_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.chmod(src, 0o750)
    (src / "main.py").write_text(CRASHES)
    out = tmp_path / "vax"
    done = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "vaccinate", str(src), "-o", str(out), "-q"],
        umask=0, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o750  # the project folder's mode, not the umask's
    for private in ("run", "patches", "jit"):
        assert mode(out / ".daifu" / private) == 0o700, private
    for shared in [out / ".daifu", out / "_daifu_shim", *(out / "_daifu_shim").iterdir(), out / ".daifu" / "manifest.json"]:
        assert not mode(shared) & 0o022, shared
    run = Run.__new__(Run)  # the output exists: run it under umask 0
    run.src, run.out, run.entry, run.process = src, out, "main.py", None
    run.env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1"}
    run.env.pop("PYTHONPATH", None)
    run.start(umask=0)
    try:
        state = run.wait_waiting()
        assert mode(out / ".daifu" / "log.jsonl") == 0o600
        assert mode(out / ".daifu" / "run" / f"{state['pid']}.json") == 0o600
    finally:
        run.kill()


@as_root
def test_snippets_from_other_users_or_open_folders_are_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    patches = run.out / ".daifu" / "patches"
    try:
        ready(run)
        os.chmod(patches, 0o777)  # loosened by hand: anyone could drop a file here
        run.snippet("daifu.skip()\n", name="open.py")
        said(run, "refused: its folder")
        os.chmod(patches, 0o700)
        foreign = patches / "foreign.py"
        foreign.write_text("daifu.skip()\n")
        os.chown(foreign, OTHER, OTHER)
        said(run, "belongs to uid 65534")
        assert run.process is not None and run.process.poll() is None  # still waiting
        run.snippet("daifu.skip()\n", name="mine.py")
        code, _, err = run.finish(timeout=60)
        assert code == 0, err
        assert "refused" in err and "applied action snippet mine.py" in err
    finally:
        run.kill()


@as_root
def test_a_module_fix_written_by_another_user_is_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    try:
        ready(run)
        # a fix of the vaccinated file in place, landing as a file of another user
        vaccinated = run.out / "main.py"
        staged = run.out / ".main.py.tmp"
        staged.write_text(vaccinated.read_text().replace("1 / (i - 1)", "1 / (i + 1)"))
        os.chown(staged, OTHER, OTHER)
        os.replace(staged, vaccinated)
        said(run, "belongs to uid 65534")
        assert run.process is not None and run.process.poll() is None
        os.chown(vaccinated, 0, 0)
        os.utime(vaccinated)  # noticed again
        code, out, err = run.finish(timeout=60)
        assert code == 0 and "done" in out, err
    finally:
        run.kill()


def _connect_as(uid: int, path: str) -> str:
    """Connect to the console socket from a forked child that dropped to *uid*; what the
    run answered (the interpreter lies under /root, so no new program can start as nobody)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgid(uid)
            os.setuid(uid)
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(10)
            client.connect(path)
            client.sendall(b"exec import os; os.system('touch /tmp/pwned')\n")
            answer = b""
            while b"\x00" not in answer:
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
            os.write(write, answer)
        except BaseException as exc:
            os.write(write, f"client error: {exc}".encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = b""
    while chunk := os.read(read, 65536):
        answer += chunk
    os.waitpid(pid, 0)
    return answer.decode("utf-8", "replace")


@as_root
def test_the_console_refuses_other_users_even_with_loosened_modes(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CRASHES}).start()
    try:
        sock = ready(run)["socket"]
        os.chmod(os.path.dirname(sock), 0o777)
        os.chmod(sock, 0o777)
        os.chmod(tmp_path, 0o755)
        for folder in Path(sock).parents:
            if str(folder).startswith(str(tmp_path.parent.parent)):
                os.chmod(folder, os.stat(folder).st_mode | 0o005)
        answer = _connect_as(OTHER, sock)
        assert "refused" in answer and "uid 65534" in answer, answer
        said(run, "runs as uid 65534")
        assert run.process is not None and run.process.poll() is None
        run.snippet("daifu.skip()\n")
        code, _, err = run.finish(timeout=60)
        assert code == 0, err
    finally:
        run.kill()
