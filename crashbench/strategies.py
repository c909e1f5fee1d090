"""What crashbench runs for a case: calibration, the three recovery strategies, the overhead.

* :func:`calibrate`: the fixed program from scratch (the reference ``final:`` line and the
  iteration time ``t_i``) and a probe that times the case's own checkpoint saves (``t_c``),
  which give the checkpoint-retry frequency by CheckFreq's rule;
* :func:`baselines`, restart and checkpoint-retry: run the buggy program until its process
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
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crashbench import harness, timing
from crashbench.case import Case

PROBE_SAVES = 20
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
if __name__ == "__main__":
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # as if the entry ran itself
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
    #: CPU time of the reference run's process (round 1's original in the overhead).
    cpu_s: float | None = None

    @property
    def predicted_overhead(self) -> float | None:
        if self.every is None or not self.t_iteration or self.t_checkpoint is None:
            return None
        return self.t_checkpoint / (self.every * self.t_iteration)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "predicted_checkpoint_overhead": self.predicted_overhead}


#: The fire-once marker of automatic cases that do not name theirs (the cases' convention:
#: next to the entry script).
DEFAULT_MARKER = ".fault_fired"


def marker_path(case: Case, root: Path) -> Path | None:
    if case.marker is not None:
        return root / case.marker
    if case.recovery == "automatic":
        return root / Path(case.entry).parent / DEFAULT_MARKER
    return None


def set_marker(case: Case, root: Path, present: bool) -> None:
    """Arm (``present=False``) or disarm a fire-once fault of an automatic case."""
    path = marker_path(case, root)
    if path is None:
        return
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
    return Calibration(final, wall, loop, t_i, t_c, every, saves, limit, cpu_s=proc.cpu_s)


def probe_saves(case: Case, work: Path, timeout: float) -> list[float]:
    """Time the case's own ``Checkpointer`` saves: run the fixed program with a checkpoint
    after every step through a wrapper that times each save and stops after a few (the first
    is left out of the median: it allocates and creates the file)."""
    root = case.materialize(work / "probe" / "program", fixed=True)
    set_marker(case, root, present=True)
    (root / "_cb_probe.py").write_text(PROBE, encoding="utf-8")
    env = {"CB_CHECKPOINT_EVERY": "1", "CB_CHECKPOINT": str(work / "probe" / "checkpoint.pt")}
    proc = harness.Proc(
        [*harness.python_cmd("_cb_probe.py"), case.entry], root, harness.base_env(case, env), work / "probe" / "logs" / "run"
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


def baselines(case: Case, work: Path, cal: Calibration, names: list[str]) -> dict[str, dict[str, Any]]:
    """Restart and checkpoint-retry (those of *names*) after one crash run of the buggy
    program with periodic checkpoints. Neither restore time depends on the crash run beyond
    the moment its process is gone (``t_ready = t_crash``, and the rerun is timed from the
    fix), so both reruns start from the same crash: a crash run less per case. The restart's
    rerun runs without checkpoints, from scratch."""
    every = cal.every if "checkpoint" in names else None
    results: dict[str, dict[str, Any]] = {}
    if "checkpoint" in names and every is None:
        results["checkpoint"] = _failure("checkpoint", "no checkpoint frequency (the probe timed no save)")
    checkpoint = work / "checkpoint.pt"
    checkpoint.unlink(missing_ok=True)
    env = {"CB_CHECKPOINT_EVERY": str(every), "CB_CHECKPOINT": str(checkpoint)} if every else {}
    run_dir = case.materialize(work / "run")
    set_marker(case, run_dir, present=False)
    first = harness.start(case, run_dir, work / "logs" / "crash", env)
    finished = first.wait(cal.timeout)
    marks = timing.steps(first.err_lines())
    for name in names:
        if name in results:
            continue
        if not finished:
            results[name] = _failure(name, "the buggy program neither crashed nor finished (timeout)")
        elif first.returncode == 0 or not marks or first.exit_time is None:
            results[name] = _failure(name, f"the buggy program did not crash (exit {first.returncode})", crashed=False)
        else:
            rerun_env = env if name == "checkpoint" else {}
            results[name] = _rerun(case, work / name, cal, name, run_dir, first, marks[-1][0], rerun_env, every if name == "checkpoint" else None)
    return results


def _rerun(
    case: Case, work: Path, cal: Calibration, strategy: str, run_dir: Path, first: harness.Proc,
    crash_step: int, env: dict[str, str], every: int | None,
) -> dict[str, Any]:
    """Fix applied to a copy of the crashed run's folder, rerun; timed from the rerun's marks."""
    assert first.exit_time is not None
    rerun_dir = work / "program"

    def fix() -> None:
        harness.copy_run(run_dir, rerun_dir)
        if case.recovery != "automatic":
            case.apply_fix(rerun_dir)

    t_fix_start, t_fix_done = harness.timed(fix)
    second = harness.start(case, rerun_dir, work / "logs" / "rerun", env)
    finished = second.wait(cal.timeout)
    rerun_lines = second.err_lines()
    restored = timing.restored_step(rerun_lines)
    rerun_marks = timing.steps(rerun_lines)
    result: dict[str, Any] = {
        "strategy": strategy,
        "crashed": True,
        "crash_step": crash_step,
        "crash_exit": first.returncode,
        "fix_apply_s": t_fix_done - t_fix_start,
        "checkpoint_every": every,
        "restored_step": restored,
        "replayed_steps": crash_step - (restored or 0),
        "lost_steps": crash_step - (restored or 0),
        "lost_s": (crash_step - (restored or 0)) * cal.t_iteration if cal.t_iteration else None,
        "checkpoint_bytes": (work.parent / "checkpoint.pt").stat().st_size if every and (work.parent / "checkpoint.pt").exists() else None,
        "startup_s": (rerun_marks[0][1] - second.started) if rerun_marks else None,
        **_outcome(case, cal, second, finished),
    }
    restore = timing.baseline_restore(first.exit_time, t_fix_done, rerun_lines, crash_step)
    if restore is None:
        return {**result, "restore_s": None, "total_s": None, "error": f"the rerun never reached step {crash_step}: {second.tail()}"}
    end = second.exit_time if finished else None
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
    # Automatic recovery needs no reaction: a slower poll only checks it never waits.
    poll = 0.05 if route == "automatic" else harness.POLL
    state, t_seen = harness.wait_until_waiting(out, proc, cal.timeout, poll)
    t_fix_start = t_fix_done = t_ready = t_command = None
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
                t_fix_start = time.time()
                case.apply_fix(src)
                t_written = harness.patch(src, out)
                t_command = time.time()
                t_fix_done = t_written if t_fix_start <= t_written <= t_command else t_command
        finished = proc.wait(cal.timeout)
    except RuntimeError as exc:  # daifu patch failed
        return _failure(strategy, str(exc), route=route)
    finally:
        proc.kill()
    result = _in_situ_result(case, cal, proc, finished, out, route, strategy, t_ready, t_seen, t_fix_start, t_fix_done)
    if t_command is not None and t_fix_start is not None:
        result["patch_command_s"] = t_command - t_fix_start
    return result


def _in_situ_result(
    case: Case, cal: Calibration, proc: harness.Proc, finished: bool, out: Path, route: str, strategy: str,
    t_ready: float | None, t_seen: float, t_fix_start: float | None, t_fix_done: float | None,
) -> dict[str, Any]:
    events = harness.journal(out)
    result: dict[str, Any] = {
        "strategy": strategy,
        "route": route,
        "crashed": any(e.get("event") == "crash" for e in events),
        "crash_events": sum(e.get("event") == "crash" for e in events),
        "journal": [e.get("event") for e in events],
        "fix_apply_s": (t_fix_done - t_fix_start) if t_fix_done and t_fix_start else 0.0,
        "ready_seen_lag_s": (t_seen - t_ready) if t_ready else None,
        **_outcome(case, cal, proc, finished),
    }
    measured = timing.in_situ_restore(events, t_ready, t_fix_done)
    if measured is None:
        return {**result, "restore_s": None, "total_s": None, "error": f"no crash/resume in the journal: {proc.tail()}"}
    restore, resume = measured
    marks = [m for m in timing.steps(proc.err_lines()) if m[1] <= restore.t_crash]
    end = proc.exit_time if finished else None
    return {
        **result,
        "crash_step": marks[-1][0] if marks else None,
        "restore": restore.as_dict(),
        "restore_s": restore.seconds,
        "restore_ms_daifu": resume.get("restore_ms"),
        "checkpoint_write_s": restore.checkpoint_s,
        "lost_steps": 0,
        "lost_s": 0.0,
        "total_s": restore.until_ready + (end - restore.t_fix_done) if end else None,
        "error": None if result["recovered"] else f"the resumed run failed: {proc.tail()}",
    }


def daifu_resume(case: Case, work: Path, cal: Calibration) -> dict[str, Any]:
    """Restart from daifu's checkpoint: the vaccinated run crashes and daifu writes its process
    checkpoint before waiting; the process is then ended (SIGTERM, as a scheduler or a person
    giving up would), the fix applied with ``daifu patch``, and ``daifu resume`` starts a new
    process at the failing statement. Restore time: the checkpoint's write at the crash (the
    process cannot go before it is on disk), then from the fix to the ``restored`` event of the
    new process (its start-up, loading, rebuilding the frames)."""
    strategy = "daifu-resume"
    if case.recovery == "automatic":
        return {"strategy": strategy, "not_applicable": "daifu recovers by itself and never waits: no process checkpoint at a crash"}
    src = case.materialize(work / "src")
    out = work / "vax"
    if out.exists():
        shutil.rmtree(out)
    harness.vaccinate(case, src, out)
    first = harness.start(case, out, work / "logs" / "crash")
    try:
        state, _ = harness.wait_until_waiting(out, first, cal.timeout)
        if state is None:
            first.wait(10)
            return _failure(strategy, f"the run never waited for a fix (exit {first.returncode}): {first.tail()}")
        events = harness.journal(out)
        saved = next((e for e in events if e.get("event") == "process-checkpoint"), None)
        if saved is None or "path" not in saved:
            why = (saved or {}).get("reason") or "none was written"
            return {"strategy": strategy, "not_applicable": f"no process checkpoint at this crash: {why}"}
        first.popen.send_signal(signal.SIGTERM)
        first.wait(60)
    finally:
        first.kill()
    crash = [e for e in events if e.get("event") == "crash"][-1]
    marks = [m for m in timing.steps(first.err_lines()) if m[1] <= float(crash["ts"])]
    crash_step = marks[-1][0] if marks else None
    t_fix_start = time.time()
    try:
        case.apply_fix(src)
        t_fix_done = harness.patch(src, out)
    except RuntimeError as exc:
        return _failure(strategy, str(exc))
    # One fix, applied before: a crash of the resumed run ends it (no second wait).
    second = harness.Proc([sys.executable, "-m", "daifu_cli", "resume", saved["path"]], out,
                          harness.base_env(case, {"DAIFU_WAIT": "0"}), work / "logs" / "resume")
    finished = second.wait(cal.timeout)
    refused = [line for line in second.err_lines() if line.startswith("daifu: cannot resume: ")]
    if finished and second.returncode == 2 and refused:  # refused before the program ran anything
        why = refused[-1].removeprefix("daifu: cannot resume: ")
        return {"strategy": strategy, "not_applicable": f"its process checkpoint cannot be resumed: {why}"}
    restored = [e for e in harness.journal(out) if e.get("event") == "restored" and float(e["ts"]) >= t_fix_done]
    resumed_marks = timing.steps(second.err_lines())
    # Steps done again: none when the new process goes on from the failing statement (its
    # first mark is the next step), all of them when it started over.
    first_mark = resumed_marks[0][0] if resumed_marks else None
    lost_steps = 0 if crash_step is None or first_mark is None or first_mark > crash_step else crash_step - first_mark + 1
    write_s = float(saved.get("ms", 0.0)) / 1000
    result: dict[str, Any] = {
        "strategy": strategy,
        "crashed": True,
        "crash_step": crash_step,
        "checkpoint_bytes": saved.get("bytes"),
        "checkpoint_write_s": write_s,
        "lost_steps": lost_steps,
        "lost_s": lost_steps * cal.t_iteration if cal.t_iteration else None,
        "fix_apply_s": t_fix_done - t_fix_start,
        "startup_s": (float(restored[0]["ts"]) - second.started) if restored else None,
        **_outcome(case, cal, second, finished),
    }
    if not restored:
        return {**result, "restore_s": None, "total_s": None, "error": f"the new process never restored the checkpoint: {second.tail()}"}
    t_crash = float(crash["ts"])
    restore = timing.Restore(t_crash, t_crash + write_s, t_fix_done, float(restored[0]["ts"]))
    end = second.exit_time if finished else None
    return {
        **result,
        "restore": restore.as_dict(),
        "restore_s": restore.seconds,
        "total_s": restore.until_ready + (end - t_fix_done) if end else None,
        # the exception first: the stderr's first lines are daifu's "restored ..." notes
        "error": None if result["recovered"] else f"the resumed run failed: {second.tail(1)}\n{second.tail()}",
    }


def overhead(case: Case, work: Path, cal: Calibration, rounds: int) -> dict[str, Any]:
    """Loop time of the fixed program: original, vaccinated, original with checkpoints every
    ``cal.every`` steps; run A B C A B C ... so that drifts of a shared machine hit all three
    alike, and report per-round ratios to the original. The calibration's reference run is
    the first round's original run (call this right after :func:`calibrate`)."""
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
    cpu: dict[str, list[float | None]] = {name: [] for name in configs}
    problems = []
    for number in range(rounds):
        for name, (root, env) in configs.items():
            if number == 0 and name == "original" and cal.loop_s is not None:
                loops[name].append(cal.loop_s)
                cpu[name].append(cal.cpu_s)
                continue
            checkpoint.unlink(missing_ok=True)
            proc = harness.start(case, root, work / "logs" / f"{name}-{number}", env)
            finished = proc.wait(cal.timeout)
            ok = finished and proc.returncode == 0
            marks = timing.steps(proc.err_lines())
            loops[name].append(timing.loop_time(marks, proc.final_arrival() or proc.exit_time) if ok else None)
            cpu[name].append(proc.cpu_s if ok else None)
            if not ok:
                problems.append(f"{name} round {number}: exit {proc.returncode}: {proc.tail(5)}")
    ratios = _ratios(loops)
    cpu_ratios = _ratios(cpu)
    return {
        "rounds": rounds,
        "checkpoint_every": cal.every,
        "loop_s": loops,
        "loop": {name: timing.spread(values) for name, values in loops.items()},
        "ratios": ratios,
        "ratio": {name: timing.spread(values) for name, values in ratios.items()},
        "cpu_s": cpu,
        "cpu_ratio": {name: timing.spread(values) for name, values in cpu_ratios.items()},
        "errors": problems,
    }


def _ratios(values: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
    """Per-round ratios of each configuration to the original."""
    base = values["original"]
    return {
        name: [timing.ratio(value, ref) for value, ref in zip(found, base, strict=True)]
        for name, found in values.items() if name != "original"
    }
