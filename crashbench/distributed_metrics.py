"""The figures of one distributed run, from the ranks' marks and daifu's journal and run files.

All times are seconds from the fault: the first ``fault`` mark, written by the faulting rank
just before its buggy line or its ``kill -9`` (see :mod:`crashbench.distributed_program`).
"""

from __future__ import annotations

from typing import Any

from crashbench import distributed_jobs
from crashbench.distributed_jobs import Job, Mark


def fault_time(marks: list[Mark]) -> float | None:
    return next((m.ts for m in marks if m.what == "fault"), None)


def finals(marks: list[Mark]) -> dict[int, str]:
    """rank -> final checksum, of the last attempt that printed one."""
    found: dict[int, str] = {}
    for m in marks:  # in time order: a later attempt's final wins
        if m.what == "final":
            found[m.rank] = m.extra
    return found


def time_back(marks: list[Mark], fault: float, ranks: int | None = None) -> float | None:
    """Fault -> the first step finished after it on every rank (the slowest rank counts)."""
    firsts = []
    for rank in range(distributed_jobs.RANKS if ranks is None else ranks):
        done = [m.ts for m in marks if m.rank == rank and m.what == "done" and m.ts > fault]
        if not done:
            return None
        firsts.append(min(done))
    return max(firsts) - fault


def lost_steps(marks: list[Mark], fault: float) -> int:
    """Steps finished before the fault and finished again after it (the most of any rank)."""
    worst = 0
    for rank in {m.rank for m in marks}:
        before = {m.step for m in marks if m.rank == rank and m.what == "done" and m.ts <= fault}
        after = [m.step for m in marks if m.rank == rank and m.what == "done" and m.ts > fault]
        worst = max(worst, len([s for s in after if s in before]))
    return worst


def first_attempt_pids(marks: list[Mark]) -> set[int]:
    return {m.pid for m in marks if m.what == "start" and m.attempt == 0}


def agent_detection(job: Job, marks: list[Mark], fault: float) -> float | None:
    """Without daifu the program says nothing: the agent's handling of the failure is seen as
    the moment every worker of the failed attempt has ended (the agent stopped the survivors,
    or they died of the failed collective)."""
    pids = first_attempt_pids(marks)
    if not pids or any(pid not in job.gone for pid in pids):
        return None
    return max(job.gone[pid] for pid in pids) - fault


def recovered(job: Job, reference: dict[int, str]) -> tuple[bool, str | None]:
    """Exit 0 (or every rank printed its final weights and gloo aborted one at shutdown, seen
    about once in ten runs with and without daifu: see tests/test_distributed_pause.py) and
    final weights equal to the fixed job run from scratch."""
    if job.timed_out:
        return False, "the job did not end within its bound (killed)"
    marks = job.marks()
    got = finals(marks)
    _, err = job.output()
    if job.returncode != 0:
        shutdown_abort = len(got) == distributed_jobs.RANKS and "terminate called without an active exception" in err
        if not shutdown_abort:
            tail = " | ".join(line for line in err.splitlines()[-4:] if line.strip())
            return False, f"torchrun exited {job.returncode}: {tail[-400:]}"
    if got != reference:
        return False, f"final weights differ from the fixed job from scratch: {got} != {reference}"
    return True, None


def measure(job: Job, reference: dict[int, str], daifu: bool) -> dict[str, Any]:
    marks = job.marks()
    fault = fault_time(marks)
    ok, why = recovered(job, reference)
    result: dict[str, Any] = {
        "recovered": ok, "why_not": why, "returncode": job.returncode,
        # torchrun attempts, from the workers seen (a job resumed from daifu's checkpoint has
        # its first attempt's variables back, TORCHELASTIC_RESTART_COUNT's copy included)
        "attempts": max(1, len({m.pid for m in marks}) // distributed_jobs.RANKS),
        "wall_s": round(job.ended - job.started, 3),
        "worker_pids": sorted({m.pid for m in marks}),
    }
    if fault is None:
        result["why_not"] = (why or "") + " (no fault mark: the fault never happened)"
        return result
    result["fault_phase"] = next(m.extra for m in marks if m.what == "fault")
    result["time_back_s"] = time_back(marks, fault)
    result["lost_steps"] = lost_steps(marks, fault)
    result["restarted_from_step"] = next(
        (m.step for m in marks if m.attempt > 0 and m.what == "loaded"),
        0 if any(m.attempt > 0 for m in marks) else None)
    result["end_s"] = round(job.ended - fault, 3)
    if job.fix_done is not None:
        result["fix_done_s"] = job.fix_done - fault
        result["fix_error"] = job.fix_error
    saves = [float(m.extra) for m in marks if m.what == "saved"]
    if saves:
        result["checkpoint_kind"] = "periodic (every rank, its own file)"
        result["checkpoint_ms"] = {"median": sorted(saves)[len(saves) // 2], "max": max(saves), "n": len(saves)}
    if daifu:
        result.update(daifu_figures(job, marks, fault))
    else:
        result["detection_s"] = agent_detection(job, marks, fault)
        result["detected_by"] = "torchrun's agent (every worker of the attempt ended)"
    return result


def daifu_figures(job: Job, marks: list[Mark], fault: float) -> dict[str, Any]:
    first = first_attempt_pids(marks)
    events = [e for e in job.events() if e.get("pid") in first]
    rank_of = {m.pid: m.rank for m in marks}
    out: dict[str, Any] = {}
    lost = [e for e in events if e["event"] == "lost-rank"]
    # a survivor's failed collective is a crash event first, then classed as a lost rank
    noticed = lost or [e for e in events if e["event"] == "crash"]
    if noticed:
        out["detection_s"] = noticed[0]["ts"] - fault
        out["detected_by"] = f"daifu's {noticed[0]['event']} event (rank {rank_of.get(noticed[0]['pid'])})"
    else:
        out["detection_s"] = None
        out["detected_by"] = "no daifu event in the failed attempt (the agent stopped it first, or it never noticed)"
    crashes = [e for e in events if e["event"] == "crash"]
    if crashes and not lost:
        crashed = {e["pid"] for e in crashes}
        out["crashed_ranks"] = sorted(rank_of.get(pid, -1) for pid in crashed)
        first_crash = crashes[0]["ts"]
        others = [pid for pid in first if pid not in crashed]
        if others:
            # the run files as polled, else the journal's pause/hold events
            held = []
            for pid in others:
                since = job.statuses.get(pid, {})
                moments = [since[s] for s in ("holding", "pausing") if s in since]
                moments += [e["ts"] for e in events if e["pid"] == pid and e["event"] in ("pause", "hold")]
                held.append(min(moments) if moments else None)
            out["pause_propagation_s"] = None if None in held else max(h for h in held if h is not None) - first_crash
            out["held_as"] = {rank_of.get(pid, -1): sorted(job.statuses.get(pid, {})) for pid in others}
        else:
            out["pause_propagation_s"] = None
            out["pause_note"] = "every rank crashed itself: " + ", ".join(
                f"rank {rank_of.get(e['pid'])} +{(e['ts'] - first_crash) * 1000:.1f} ms" for e in crashes)
        resumes = [e for e in events if e["event"] == "resume"]
        if resumes and job.fix_done is not None:
            out["resumed_after_fix_s"] = max(e["ts"] for e in resumes) - job.fix_done
        written = [e["ts"] for e in events if e["event"] == "process-checkpoint" and e["pid"] in crashed]
        if written:  # the crashed rank's checkpoint is on disk: from then on a fix can resume it
            out["crash_to_checkpoint_done_s"] = max(written) - first_crash
    checkpoints = [e for e in events if e["event"] == "process-checkpoint" and e.get("ms") is not None]
    if checkpoints:
        out["checkpoint_kind"] = "daifu's process checkpoint (at the crash / the loss, per rank)"
        out["checkpoint_ms"] = {"median": sorted(e["ms"] for e in checkpoints)[len(checkpoints) // 2],
                                "max": max(e["ms"] for e in checkpoints), "n": len(checkpoints)}
        out["checkpoint_bytes"] = max(e.get("bytes") or 0 for e in checkpoints)
    if lost:
        out["lost_rank_reason"] = lost[0].get("reason")
    return out
