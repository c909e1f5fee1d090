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
            answer = b""
            while b"\x00" not in answer:  # the greeting first: a refusal, or the report
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
            if b"refused" not in answer:  # served: try to run code in the training process
                client.sendall(b"exec import os; os.system('touch /tmp/pwned')\n")
                answer += client.recv(65536)
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


def _invoke_as(uid: int | None, *args: str) -> tuple[int, str]:
    """The CLI in a forked child running as *uid* (root cannot be denied a permission), or in
    this process when *uid* is None. Modules it needs are imported before the fork: the
    interpreter's own files lie under /root, out of nobody's reach."""
    from typer.testing import CliRunner

    from daifu_cli.cli import app

    if uid is None:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgid(uid)
            os.setuid(uid)
            result = CliRunner().invoke(app, list(args))
            failure = "" if result.exception is None or isinstance(result.exception, SystemExit) else repr(result.exception)
            os.write(write, f"{result.exit_code}\n{result.output}{failure}".encode())
        except BaseException as exc:
            os.write(write, f"99\nchild failed: {exc!r}".encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    code, _, output = data.decode().partition("\n")
    return int(code), output


def _reachable_by_others(folder: Path) -> bool:
    """Whether a user other than the owner can enter *folder* (every folder above it lets
    others through)."""
    return all(p.stat().st_mode & 0o001 for p in [folder, *folder.parents])


def test_permission_errors_are_reported_as_errors_not_tracebacks(tmp_path: Path) -> None:
    import tempfile

    from daifu_cli import cli, patch  # noqa: F401  (imported before a fork drops privileges)

    root = os.getuid() == 0 if hasattr(os, "getuid") else False
    user = OTHER if root else None
    if root and not _reachable_by_others(Path(cli.__file__).parent):
        pytest.skip("the checkout lies in a folder other users cannot enter (a 0700 temporary "
                    "folder?): acting as uid 65534 cannot read daifu's own templates there")
    base = Path(tempfile.mkdtemp(prefix="daifu-perm-"))
    try:
        os.chmod(base, 0o755)
        src = base / "proj"
        src.mkdir()
        (src / "train.py").write_text(CRASHES)
        (src / "secret.txt").write_text("no\n")
        os.chmod(src / "secret.txt", 0)
        locked = base / "locked"
        locked.mkdir(mode=0o755)
        if root:
            os.chown(src, OTHER, OTHER)
            os.chown(src / "train.py", OTHER, OTHER)
        else:
            os.chmod(locked, 0o555)
        writable = base / "out"
        writable.mkdir()
        if root:
            os.chown(writable, OTHER, OTHER)
        # warm the imports in this process before forking: the same commands, as root
        warm = tmp_path / "warm"
        warm.mkdir()
        (warm / "train.py").write_text(CRASHES)
        _invoke_as(None, "vaccinate", str(warm), "-o", str(tmp_path / "warm-vax"))
        (warm / "train.py").write_text(CRASHES.replace("i - 1", "i + 1"))
        _invoke_as(None, "patch", str(warm), "-o", str(tmp_path / "warm-vax"))
        _invoke_as(None, "vaccinate", str(warm), "-o", str(src / "secret.txt" / "x"))
        # an unreadable project file
        code, output = _invoke_as(user, "vaccinate", str(src), "-o", str(writable / "vax"))
        assert code == 123, output
        assert f"error: {src / 'secret.txt'}: Permission denied" in output, output
        assert "Traceback" not in output and not (writable / "vax").exists()
        # a read-only output location
        os.chmod(src / "secret.txt", 0o644)
        code, output = _invoke_as(user, "vaccinate", str(src), "-o", str(locked / "vax"))
        assert code == 123, output
        assert f"error: {locked}: Permission denied" in output, output
        # a read-only output during `daifu patch`
        code, output = _invoke_as(user, "vaccinate", str(src), "-o", str(writable / "vax"))
        assert code == 0, output
        (src / "train.py").write_text(CRASHES.replace("i - 1", "i + 1"))
        os.chmod(writable / "vax", 0o555)
        code, output = _invoke_as(user, "patch", str(src), "-o", str(writable / "vax"))
        assert code == 123, output
        assert "Permission denied" in output and "Traceback" not in output, output
    finally:
        for folder, _, _ in os.walk(base):
            os.chmod(folder, 0o755)
        import shutil

        shutil.rmtree(base, ignore_errors=True)
