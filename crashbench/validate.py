"""Check that crashbench cases do what their metadata says, with real runs.

    python -m crashbench.validate [CASE_ID ...]

For each case: the original program crashes with the expected exception during the expected
step; the fixed program finishes with a ``final:`` line; the vaccinated program, given the fix
through daifu (``daifu patch`` after editing the source, and the action snippet if the case has
one), finishes with the same ``final:`` line. Cases that need a GPU are skipped without one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crashbench import harness, timing
from crashbench.case import Case, all_cases
from crashbench.strategies import set_marker

TIMEOUT = 600


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def final_line(stdout: str) -> str | None:
    return timing.final_line(stdout.splitlines())


def last_step(stderr: str) -> int | None:
    marks = timing.steps(stderr.splitlines())
    return marks[-1][0] if marks else None


def last_exception(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line and not line.startswith((" ", "CB "))]
    return lines[-1].split(":", 1)[0] if lines else ""


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def in_situ(case: Case, work: Path, route: str) -> tuple[bool, str, str]:
    """Run the vaccinated case and fix it through *route* ("patch" or "snippet")."""
    src = case.materialize(work / f"src-{route}")
    set_marker(case, src, present=False)
    out = work / f"vax-{route}"
    harness.vaccinate(case, src, out)
    set_marker(case, out, present=False)
    env = {**os.environ, "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1", **case.env}
    process = subprocess.Popen(
        [sys.executable, case.entry], cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        if case.recovery != "automatic":
            if not wait_for(lambda: harness.waiting_state(out) is not None or process.poll() is not None, TIMEOUT):
                return False, "never waited for a fix", ""
            if process.poll() is not None:
                stdout, stderr = process.communicate()
                return False, f"exited ({process.returncode}) instead of waiting: {stderr[-2000:]}", stdout
            if route == "snippet":
                harness.drop_snippet(out, case.snippet_text or "")
            else:
                case.apply_fix(src)
                try:
                    harness.patch(src, out)
                except RuntimeError as exc:
                    return False, str(exc), ""
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"did not finish within {TIMEOUT} s", ""
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode != 0:
        return False, f"resumed run failed ({process.returncode}): {stderr[-3000:]}", stdout
    return True, stderr, stdout


def validate(case: Case) -> list[str]:
    problems: list[str] = []
    if case.gpu:
        try:
            import torch

            if not torch.cuda.is_available():
                return ["skipped: needs a GPU"]
        except ImportError:
            return ["skipped: needs torch"]
    with tempfile.TemporaryDirectory(prefix=f"cb-{case.id}-") as tmp:
        work = Path(tmp)
        original = case.materialize(work / "original")
        set_marker(case, original, present=False)
        try:
            result = run([sys.executable, case.entry], original, env=case.env)
        except subprocess.TimeoutExpired:
            return [f"the original program ran past {TIMEOUT} s"]
        if case.recovery == "automatic":
            if result.returncode == 0:
                problems.append("the original program did not crash")
        else:
            if result.returncode == 0:
                problems.append("the original program did not crash")
            elif last_exception(result.stderr) != case.expected_exception:
                problems.append(f"crashed with {last_exception(result.stderr)!r}, expected {case.expected_exception!r}")
            if last_step(result.stderr) != case.crash_step:
                problems.append(f"crashed during step {last_step(result.stderr)}, expected {case.crash_step}")
        fixed = case.materialize(work / "fixed", fixed=True)
        set_marker(case, fixed, present=True)  # a fire-once fault stays quiet in the reference
        try:
            reference = run([sys.executable, case.entry], fixed, env=case.env)
        except subprocess.TimeoutExpired:
            return [*problems, f"the fixed program ran past {TIMEOUT} s"]
        expected = final_line(reference.stdout)
        if reference.returncode != 0 or expected is None:
            problems.append(f"the fixed program failed: {reference.stderr[-2000:]}")
            return problems
        routes = ["patch"] + (["snippet"] if case.snippet else [])
        if case.recovery == "automatic":
            routes = ["automatic"]
        for route in routes:
            ok, detail, stdout = in_situ(case, work, route)
            if not ok:
                problems.append(f"in-situ ({route}): {detail}")
            elif case.equal_result and final_line(stdout) != expected:
                problems.append(f"in-situ ({route}): final line {final_line(stdout)!r} != {expected!r}")
    return problems


def main(argv: list[str]) -> int:
    cases = [c for c in all_cases() if not argv or c.id in argv]
    failed = 0
    for case in cases:
        started = time.perf_counter()
        problems = validate(case)
        status = "ok" if not problems else ("SKIP" if problems[0].startswith("skipped") else "FAIL")
        failed += status == "FAIL"
        print(f"{status:4s} {case.id} ({time.perf_counter() - started:.1f} s)")
        for problem in problems:
            print(f"     {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
