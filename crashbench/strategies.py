"""What crashbench runs for a case: calibration, the three recovery strategies, the overhead.

* :func:`calibrate`: the fixed program from scratch (the reference ``final:`` line and the
  iteration time ``t_i``) and a probe that times the case's own checkpoint saves (``t_c``),
  which give the checkpoint-retry frequency by CheckFreq's rule;
* :func:`restart` and :func:`checkpoint_retry`: run the buggy program until its process
  exits, apply the fix to a copy, rerun (from scratch, or from the last periodic checkpoint);
* :func:`in_situ`: vaccinate, run, apply the fix through daifu while the process waits
  (``daifu patch`` or an action snippet; nothing for automatic recovery);
* :func:`overhead`: the fixed program without a crash, original vs vaccinated vs original
  with periodic checkpoints, interleaved.

The fix is applied as soon as the crash is visible (no human thinking time); see
:mod:`crashbench.timing` for what the restore time includes. Each function returns a plain
dict (it goes to ``results.json`` as is).
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crashbench import harness, timing
from crashbench.case import Case

PROBE_SAVES = 6
PROBE = '''"""crashbench probe: time the case's checkpoint saves (CB saved N <seconds>), then stop."""
import os, runpy, sys, time
import cb_support

_save = cb_support.Checkpointer.save_if_due
_count = 0


def _timed(self, next_step):
    global _count
    if not self.enabled or next_step % cb_support.CHECKPOINT_EVERY:
        return _save(self, next_step)
    begin = time.perf_counter()
    _save(self, next_step)
    sys.stderr.write(f"CB saved {next_step} {time.perf_counter() - begin:.6f}\\n")
    sys.stderr.flush()
    _count += 1
    if _count >= LIMIT:
        sys.stdout.flush()
        os._exit(0)


cb_support.Checkpointer.save_if_due = _timed
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''.replace("LIMIT", str(PROBE_SAVES))


@dataclass
class Calibration:
    """What the strategies need to know about the case, measured once."""

    final: str | None
    wall_s: float
    loop_s: float | None
    t_iteration: float | None
    t_checkpoint: float | None
    every: int | None
    saves: list[float]
    timeout: float
    error: str | None = None

    @property
    def predicted_overhead(self) -> float | None:
        if self.every is None or not self.t_iteration or self.t_checkpoint is None:
            return None
        return self.t_checkpoint / (self.every * self.t_iteration)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "predicted_checkpoint_overhead": self.predicted_overhead}


def set_marker(case: Case, root: Path, present: bool) -> None:
    """Arm (``present=False``) or disarm a fire-once fault of an automatic case."""
    if case.marker is None:
        return
    path = root / case.marker
    if present:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    elif path.exists():
        path.unlink()


def calibrate(case: Case, work: Path, timeout: float = 900) -> Calibration:
    ref_dir = case.materialize(work / "reference" / "program", fixed=True)
    set_marker(case, ref_dir, present=True)
    proc = harness.start(case, ref_dir, work / "reference" / "logs" / "run")
    finished = proc.wait(timeout)
    marks = timing.steps(proc.err_lines())
    final = timing.final_line(proc.out_lines())
    wall = (proc.exit_time or proc.started) - proc.started
    t_i = timing.iteration_time(marks)
    limit = max(120.0, 5 * wall + 60)
    if not finished or proc.returncode != 0 or final is None:
        why = "timed out" if not finished else f"exit {proc.returncode}"
        return Calibration(final, wall, None, t_i, None, None, [], limit, f"the fixed program failed ({why}): {proc.tail()}")
    loop = timing.loop_time(marks, proc.final_arrival() or proc.exit_time)
    saves = probe_saves(case, work, limit)
    t_c = statistics.median(saves[1:] or saves) if saves else None
    every = timing.checkpoint_every(t_i, t_c) if t_i is not None and t_c is not None else None
    return Calibration(final, wall, loop, t_i, t_c, every, saves, limit)


def probe_saves(case: Case, work: Path, timeout: float) -> list[float]:
    """Time the case's own ``Checkpointer`` saves: run the fixed program with a checkpoint
    after every step through a wrapper that times each save and stops after a few (the first
    is left out of the median: it allocates and creates the file)."""
    root = case.materialize(work / "probe" / "program", fixed=True)
    set_marker(case, root, present=True)
    (root / "_cb_probe.py").write_text(PROBE, encoding="utf-8")
    env = {"CB_CHECKPOINT_EVERY": "1", "CB_CHECKPOINT": str(work / "probe" / "checkpoint.pt")}
    proc = harness.Proc(
        harness.python_cmd("_cb_probe.py") + [case.entry], root, harness.base_env(case, env), work / "probe" / "logs" / "run"
    )
    proc.wait(timeout)
    return timing.save_durations(proc.err_lines())


def _outcome(case: Case, cal: Calibration, proc: harness.Proc, finished: bool) -> dict[str, Any]:
    final = timing.final_line(proc.out_lines())
    return {
        "recovered": finished and proc.returncode == 0 and final is not None,
        "exit": proc.returncode if finished else "timeout",
        "final": final,
        "equal": final is not None and final == cal.final,
    }


def _failure(strategy: str, why: str, **fields: Any) -> dict[str, Any]:
    return {"strategy": strategy, "recovered": False, "restore_s": None, "total_s": None, "error": why, **fields}


def restart(case: Case, work: Path, cal: Calibration) -> dict[str, Any]:
    return _baseline(case, work, cal, "restart", None)


def checkpoint_retry(case: Case, work: Path, cal: Calibration) -> dict[str, Any]:
    if cal.every is None:
        return _failure("checkpoint", "no checkpoint frequency (the probe timed no save)")
    return _baseline(case, work, cal, "checkpoint", cal.every)


def _baseline(case: Case, work: Path, cal: Calibration, strategy: str, every: int | None) -> dict[str, Any]:
    """Crash run, fix applied to a copy of its folder, rerun; timed from the rerun's marks."""
    env = {}
    if every is not None:
        checkpoint = work / "checkpoint.pt"
        checkpoint.unlink(missing_ok=True)
        env = {"CB_CHECKPOINT_EVERY": str(every), "CB_CHECKPOINT": str(checkpoint)}
    run_dir = case.materialize(work / "run")
    set_marker(case, run_dir, present=False)
    first = harness.start(case, run_dir, work / "logs" / "crash", env)
    if not first.wait(cal.timeout):
        return _failure(strategy, "the buggy program neither crashed nor finished (timeout)")
    marks = timing.steps(first.err_lines())
    if first.returncode == 0 or not marks or first.exit_time is None:
        return _failure(strategy, f"the buggy program did not crash (exit {first.returncode})", crashed=False)
    crash_step = marks[-1][0]
    t_crash = first.exit_time
    rerun_dir = work / "rerun"

    def fix() -> None:
        harness.copy_run(run_dir, rerun_dir)
        if case.recovery != "automatic":
            case.apply_fix(rerun_dir)

    t_fix_start, t_fix_done = harness.timed(fix)
    second = harness.start(case, rerun_dir, work / "logs" / "rerun", env)
    finished = second.wait(cal.timeout)
    rerun_lines = second.err_lines()
    t_back = timing.step_time(rerun_lines, crash_step)
    restored = timing.restored_step(rerun_lines)
    result: dict[str, Any] = {
        "strategy": strategy,
        "crashed": True,
        "crash_step": crash_step,
        "crash_exit": first.returncode,
        "fix_apply_s": t_fix_done - t_fix_start,
        "checkpoint_every": every,
        "restored_step": restored,
        "replayed_steps": crash_step - (restored or 0),
        **_outcome(case, cal, second, finished),
    }
    if t_back is None:
        return {**result, "restore_s": None, "total_s": None, "error": f"the rerun never reached step {crash_step}: {second.tail()}"}
    restore = timing.Restore(t_crash, t_crash, t_fix_done, t_back)
    end = second.exit_time if finished and second.exit_time else None
    return {
        **result,
        "restore": restore.as_dict(),
        "restore_s": restore.seconds,
        "total_s": restore.until_ready + (end - t_fix_done) if end else None,
        "error": None if result["recovered"] else f"the rerun failed: {second.tail()}",
    }


def in_situ(case: Case, work: Path, cal: Calibration, route: str) -> dict[str, Any]:
    """Vaccinated run fixed through *route*: ``patch``, ``snippet`` or ``automatic``."""
    strategy = "insitu" if route in ("patch", "automatic") else f"insitu-{route}"
    src = case.materialize(work / "src")
    set_marker(case, src, present=False)
    out = work / "vax"
    if out.exists():
        shutil.rmtree(out)
    harness.vaccinate(case, src, out)
    set_marker(case, out, present=False)
    proc = harness.start(case, out, work / "logs" / "run")
    state, t_seen = harness.wait_until_waiting(out, proc, cal.timeout)
    t_fix_start = t_fix_done = t_ready = None
    try:
        if route == "automatic":
            if state is not None:
                return _failure(strategy, "daifu waited for a human instead of recovering by itself", route=route)
        else:
            if state is None:
                proc.wait(10)
                return _failure(strategy, f"the run never waited for a fix (exit {proc.returncode}): {proc.tail()}", route=route)
            t_ready = float(state.get("since", t_seen))
            if route == "snippet":
                text = case.snippet_text or ""
                t_fix_start, t_fix_done = harness.timed(lambda: harness.drop_snippet(out, text))
            else:
                t_fix_start, t_fix_done = harness.timed(lambda: (case.apply_fix(src), harness.patch(src, out)))
        finished = proc.wait(cal.timeout)
    except RuntimeError as exc:  # daifu patch failed
        return _failure(strategy, str(exc), route=route)
    finally:
        proc.kill()
    return _in_situ_result(case, cal, proc, finished, out, route, strategy, t_ready, t_seen, t_fix_start, t_fix_done)


def _in_situ_result(
    case: Case, cal: Calibration, proc: harness.Proc, finished: bool, out: Path, route: str, strategy: str,
    t_ready: float | None, t_seen: float, t_fix_start: float | None, t_fix_done: float | None,
) -> dict[str, Any]:
    events = harness.journal(out)
    crashes = [e for e in events if e.get("event") == "crash"]
    resumes = [e for e in events if e.get("event") == "resume"]
    result: dict[str, Any] = {
        "strategy": strategy,
        "route": route,
        "crashed": bool(crashes),
        "crash_events": len(crashes),
        "journal": [e.get("event") for e in events],
        "fix_apply_s": (t_fix_done - t_fix_start) if t_fix_done and t_fix_start else 0.0,
        "ready_seen_lag_s": (t_seen - t_ready) if t_ready else None,
        **_outcome(case, cal, proc, finished),
    }
    if not crashes or not resumes:
        return {**result, "restore_s": None, "total_s": None, "error": f"no crash/resume in the journal: {proc.tail()}"}
    if route == "automatic":
        t_crash = float(crashes[0]["ts"])
        resume = resumes[-1]
        t_ready = t_fix_done = t_crash
    else:
        assert t_ready is not None and t_fix_done is not None
        waited = [e for e in crashes if float(e["ts"]) <= t_ready] or crashes
        t_crash = float(waited[-1]["ts"])
        resume = next((e for e in resumes if float(e["ts"]) >= t_crash), resumes[-1])
    marks = [m for m in timing.steps(proc.err_lines()) if m[1] <= t_crash]
    restore = timing.Restore(t_crash, t_ready, t_fix_done, float(resume["ts"]))
    end = proc.exit_time if finished else None
    return {
        **result,
        "crash_step": marks[-1][0] if marks else None,
        "restore": restore.as_dict(),
        "restore_s": restore.seconds,
        "restore_ms_daifu": resume.get("restore_ms"),
        "total_s": restore.until_ready + (end - t_fix_done) if end else None,
        "error": None if result["recovered"] else f"the resumed run failed: {proc.tail()}",
    }


def overhead(case: Case, work: Path, cal: Calibration, rounds: int) -> dict[str, Any]:
    """Loop time of the fixed program: original, vaccinated, original with checkpoints every
    ``cal.every`` steps; run A B C A B C ... so that drifts of a shared machine hit all three
    alike, and report per-round ratios to the original."""
    fixed = case.materialize(work / "fixed", fixed=True)
    set_marker(case, fixed, present=True)
    src = case.materialize(work / "src", fixed=True)
    vax = work / "vax"
    if vax.exists():
        shutil.rmtree(vax)
    harness.vaccinate(case, src, vax)
    set_marker(case, vax, present=True)
    checkpoint = work / "checkpoint.pt"
    configs: dict[str, tuple[Path, dict[str, str]]] = {"original": (fixed, {}), "vaccinated": (vax, {})}
    if cal.every is not None:
        configs["checkpoint"] = (fixed, {"CB_CHECKPOINT_EVERY": str(cal.every), "CB_CHECKPOINT": str(checkpoint)})
    loops: dict[str, list[float | None]] = {name: [] for name in configs}
    problems = []
    for number in range(rounds):
        for name, (root, env) in configs.items():
            checkpoint.unlink(missing_ok=True)
            proc = harness.start(case, root, work / "logs" / f"{name}-{number}", env)
            finished = proc.wait(cal.timeout)
            ok = finished and proc.returncode == 0
            marks = timing.steps(proc.err_lines())
            loops[name].append(timing.loop_time(marks, proc.final_arrival() or proc.exit_time) if ok else None)
            if not ok:
                problems.append(f"{name} round {number}: exit {proc.returncode}: {proc.tail(5)}")
    ratios = {
        name: [timing.ratio(value, base) for value, base in zip(loops[name], loops["original"])]
        for name in configs if name != "original"
    }
    return {
        "rounds": rounds,
        "checkpoint_every": cal.every,
        "loop_s": loops,
        "loop": {name: timing.spread(values) for name, values in loops.items()},
        "ratios": ratios,
        "ratio": {name: timing.spread(values) for name, values in ratios.items()},
        "errors": problems,
    }
