"""``results.json`` and ``results.md``: the measurements as data, and as one table to read.

The JSON keeps every run's raw timestamps (so a number in the table can be recomputed and
questioned); the markdown shows medians with their spread, the ratios, and a summary that
states the definition of restore time and the scale of the runs next to the numbers.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from crashbench import timing

RESTORE_DEFINITION = (
    "restore = (t_ready - t_crash) + max(0, t_back - t_fix_done): from the crash until execution is "
    "back at the failing point with the fix in place, without the harness's reaction time (the "
    "interval from t_ready to t_fix_done, where a human would think). Baselines: t_crash = t_ready = "
    "exit of the crashed process, t_fix_done = fixed copy written, t_back = the rerun's first `CB "
    "step` mark at or after the crash step. In-situ: t_crash = daifu's `crash` event, t_ready = its `waiting` state "
    "written, t_fix_done = `daifu patch` has written the fix (mtime of `.daifu/manifest.json`, its last "
    "write) or the snippet is renamed into place (automatic recovery: "
    "t_ready = t_fix_done = t_crash), t_back = daifu's `resume` event; the checkpoints daifu writes "
    "before it waits are left out of t_ready - t_crash and shown beside (+ checkpoint write). Daifu's "
    "checkpoint: the in-situ run is ended (SIGTERM) once waiting, t_ready = t_crash + the process "
    "checkpoint's write, t_fix_done = `daifu patch` has written the fix, t_back = the `restored` event "
    "of the process `daifu resume` started. Total = (t_ready - t_crash) + (process end - t_fix_done)."
)
LABELS = {"restart": "restart", "checkpoint": "checkpoint-retry", "daifu-resume": "daifu's checkpoint", "insitu": "in-situ",
          "insitu-snippet": "in-situ (snippet)"}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
        info["gpu"] = None
    return info


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def with_spread(stats: dict[str, Any] | None, fmt: Any = duration) -> str:
    if not stats:
        return "-"
    text = fmt(stats["median"])
    if stats["n"] > 1:
        text += f" ({fmt(stats['min'])}–{fmt(stats['max'])})"
    return text


def times(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.0f}×" if value >= 10 else f"{value:.1f}×")


def factor(value: float | None) -> str:
    return "-" if value is None else f"×{value:.3f}"


def _recovered(case: dict[str, Any], strategies: list[str]) -> str:
    cells = []
    for name in strategies:
        result = case["strategies"].get(name)
        cells.append("-" if result is None else f"{result['recovered']}/{result['n']}")
    return " · ".join(cells)


def _equal(case: dict[str, Any]) -> str:
    results = [(n, r) for n, r in case["strategies"].items() if r["recovered"]]
    if not results:
        return "-"
    differing = [LABELS.get(n, n) for n, r in results if not r["equal"]]
    if not differing:
        return "yes"
    if not case.get("equal_result", True):
        return f"no, as declared ({', '.join(differing)}: {case.get('equal_result_reason') or 'see the case'})"
    return f"**no** ({', '.join(differing)})"


def _daifu_resume_cell(case: dict[str, Any]) -> str:
    """Restore from daifu's process checkpoint, its lost work, size and write time; or why
    the crash left none."""
    if case.get("no_process_checkpoint"):
        return "n/a: " + case["no_process_checkpoint"].split(" (")[0].split(": the ")[0]
    result = case["strategies"].get("daifu-resume")
    if not result:
        return "-"
    text = with_spread(result.get("restore_s"))
    size, write, lost = (result.get(k) or {} for k in ("checkpoint_bytes", "checkpoint_write_s", "lost_steps"))
    if size and write:
        text += f" ({size['median'] / 1e6:.1f} MB written in {duration(write['median'])}"
        text += f"; {lost['median']:.0f} steps lost)" if lost else ")"
    return text


def _in_situ_cell(case: dict[str, Any]) -> str:
    text = with_spread((case["strategies"].get("insitu") or {}).get("restore_s"))
    written = ((case["strategies"].get("insitu") or {}).get("checkpoint_write_s") or {}).get("median")
    if written:
        text += f" (+{duration(written)} checkpoint write)"
    snippet = (case["strategies"].get("insitu-snippet") or {}).get("restore_s")
    if snippet:
        text += f"; snippet {with_spread(snippet)}"
    return text


def _overhead_cell(loop: dict[str, Any] | None, cpu: dict[str, Any] | None) -> str:
    text = with_spread(loop, factor)
    return text + (f"; CPU {factor(cpu['median'])}" if cpu else "")


def table(cases: list[dict[str, Any]], strategies: list[str]) -> str:
    names = " · ".join(LABELS[s] for s in strategies)
    head = [
        "| Case | Scenario | Crash point | Recovered (" + names + ") | Restore: restart | Restore: checkpoint-retry | "
        "Restore: daifu's checkpoint | Restore: in-situ | restart ÷ in-situ | checkpoint ÷ in-situ | Equal final result | "
        "Overhead: vaccinated | Overhead: checkpoints |",
        "|" + "---|" * 13,
    ]
    rows = []
    for case in cases:
        where = f"{case['crash_point']} (step {case['crash_step']}/{case['steps']})"
        if case.get("skipped") or case.get("error"):
            why = case.get("skipped") or f"**error**: {case['error'].splitlines()[0]}"
            rows.append(f"| {case['id']} | {case['scenario']} | {where} | {why} |" + " |" * 9)
            continue
        results = case["strategies"]
        every = (case.get("calibration") or {}).get("every")
        ckpt = with_spread((results.get("checkpoint") or {}).get("restore_s"))
        if "checkpoint" in results and every:
            ckpt += f" (every {every})"
        overhead = (case.get("overhead") or {}).get("ratio", {})
        cpu = (case.get("overhead") or {}).get("cpu_ratio", {})
        rows.append(
            f"| {case['id']} | {case['scenario']} | {where} | {_recovered(case, strategies)} | "
            f"{with_spread((results.get('restart') or {}).get('restore_s'))} | {ckpt} | {_daifu_resume_cell(case)} | {_in_situ_cell(case)} | "
            f"{times(case['ratios'].get('restart'))} | {times(case['ratios'].get('checkpoint'))} | {_equal(case)} | "
            f"{_overhead_cell(overhead.get('vaccinated'), cpu.get('vaccinated'))} | "
            f"{_overhead_cell(overhead.get('checkpoint'), cpu.get('checkpoint'))} |"
        )
    return "\n".join(head + rows)


def summary(cases: list[dict[str, Any]], strategies: list[str]) -> dict[str, Any]:
    ran = [c for c in cases if not c.get("skipped")]
    recovered = {}
    for name in [*strategies, "insitu-snippet"]:
        with_runs = [c for c in ran if name in c.get("strategies", {})]
        if with_runs or name in strategies:
            recovered[name] = {
                "cases": sum(1 for c in with_runs if c["strategies"][name]["recovered"] == c["strategies"][name]["n"]),
                "of": len(with_runs) if name in ("insitu-snippet", "daifu-resume") else len(ran),
            }
    ratios = {b: timing.spread(c["ratios"].get(b) for c in ran if c.get("ratios")) for b in ("restart", "checkpoint", "daifu-resume")}
    overhead, cpu = ({
        kind: timing.spread(((c.get("overhead") or {}).get(key, {}).get(kind) or {}).get("median") for c in ran)
        for kind in ("vaccinated", "checkpoint")
    } for key in ("ratio", "cpu_ratio"))
    daifu_ms = timing.spread(
        ((c.get("strategies", {}).get("insitu") or {}).get("restore_ms_daifu") or {}).get("median") for c in ran
    )
    restore, total = ({
        name: timing.spread(((c.get("strategies", {}).get(name) or {}).get(key) or {}).get("median") for c in ran)
        for name in LABELS
    } for key in ("restore_s", "total_s"))
    lost = {
        name: timing.spread(((c.get("strategies", {}).get(name) or {}).get("lost_steps") or {}).get("median") for c in ran)
        for name in LABELS
    }
    no_checkpoint = {c["id"]: c["no_process_checkpoint"] for c in ran if c.get("no_process_checkpoint")}
    cals = [c["calibration"] for c in ran if c.get("calibration") and not c.get("error")]
    scale = {
        "loop_s": timing.spread(k.get("loop_s") for k in cals),
        "t_iteration_s": timing.spread(k.get("t_iteration") for k in cals),
        "steps": timing.spread(float(c["steps"]) for c in ran),
        "crash_fraction": timing.spread(c["crash_step"] / c["steps"] for c in ran if c["steps"]),
        "startup_s": timing.spread(
            r.get("startup_s") for c in ran for name in ("restart", "checkpoint")
            for r in (c.get("strategies", {}).get(name) or {}).get("runs", [])
        ),
    }
    return {
        "cases": len(cases), "ran": len(ran), "skipped": len(cases) - len(ran),
        "errors": [c["id"] for c in ran if c.get("error")],
        "recovered": recovered, "restore_ratio": ratios, "restore_s": restore, "restore_ms_daifu": daifu_ms, "total_s": total, "lost_steps": lost, "no_process_checkpoint": no_checkpoint, "overhead": overhead, "overhead_cpu": cpu, "scale": scale,
    }


def summary_text(results: dict[str, Any]) -> str:
    s = results["summary"]
    lines = ["## Summary", ""]
    lines.append(f"- Cases: {s['cases']} selected, {s['ran']} run, {s['skipped']} skipped (GPU-only without a GPU)"
                 + (f"; calibration failed for {', '.join(s['errors'])}" if s["errors"] else "") + ".")
    parts = [f"{LABELS[n]} {v['cases']}/{v['of']}" for n, v in s["recovered"].items()]
    lines.append("- Recovered (every repetition finished with exit 0): " + ", ".join(parts) + ".")
    for name, stats in s["restore_s"].items():
        if stats:
            lines.append(f"- Restore time, {LABELS[name]}: median over cases {duration(stats['median'])} "
                         f"(min {duration(stats['min'])}, max {duration(stats['max'])}).")
    own = s.get("restore_ms_daifu")
    if own:
        lines.append(f"- daifu's own `restore_ms` (from the moment the runtime took the fix to the resume; it leaves out "
                     f"the time to notice the fix): median over cases {own['median']:.1f} ms (min {own['min']:.1f}, max {own['max']:.1f}).")
    totals = [f"{LABELS[n]} {duration(v['median'])}" for n, v in s.get("total_s", {}).items() if v]
    if totals:
        lines.append("- Crash-to-finish wall time (without the harness's reaction), median over cases: " + ", ".join(totals) + ".")
    for baseline, stats in s["restore_ratio"].items():
        if stats:
            lines.append(f"- {LABELS[baseline]} ÷ in-situ restore time: median {times(stats['median'])}, "
                         f"min {times(stats['min'])} over {_cases(stats['n'])}.")
    lost = [f"{LABELS[n]} {v['median']:.0f} (max {v['max']:.0f})" for n, v in (s.get("lost_steps") or {}).items() if v]
    if lost:
        lines.append("- Steps done again after the crash (lost work), median over cases: " + ", ".join(lost) + ".")
    for case_id, why in (s.get("no_process_checkpoint") or {}).items():
        lines.append(f"- {case_id}: no restart from daifu's checkpoint: {why}.")
    for kind, stats in s["overhead"].items():
        if stats:
            label = "vaccinated (daifu)" if kind == "vaccinated" else "periodic checkpoints (CheckFreq frequency)"
            lines.append(f"- Steady-state overhead, {label}: median {factor(stats['median'])} of the original loop time "
                         f"(min {factor(stats['min'])}, max {factor(stats['max'])}, {_cases(stats['n'])}).")
    cpu = [f"{'vaccinated' if k == 'vaccinated' else 'checkpoints'} {factor(v['median'])} (min {factor(v['min'])}, max {factor(v['max'])})"
           for k, v in s.get("overhead_cpu", {}).items() if v]
    if cpu:
        lines.append("- CPU time of the whole process (start-up included; unlike wall time it does not grow with other "
                     "work on the machine), median ratio over cases: " + ", ".join(cpu) + ".")
    lines += ["", "### Scale", "", scale_text(s["scale"]), "", "### Restore time", "", RESTORE_DEFINITION, ""]
    reps = results["settings"]["repetitions"]
    lines.append(
        f"Repetitions: {reps['baseline']} per baseline, {reps['insitu']} in-situ through `daifu patch` (or automatic), "
        f"{reps.get('snippet', reps['insitu'])} through the action snippet, {reps['overhead']} "
        "interleaved overhead rounds (original, vaccinated, checkpointed); cells show the median and (min–max). "
        "Overhead is the ratio of training-loop times (first `CB step 0` mark to the `final:` line) within a round."
    )
    return "\n".join(lines)


def scale_text(scale: dict[str, Any]) -> str:
    loop, step, fraction = scale.get("loop_s"), scale.get("t_iteration_s"), scale.get("crash_fraction")
    if not loop or not step or not fraction:
        return "No case finished its calibration run."
    startup = scale.get("startup_s")
    started = (f" (here {duration(startup['median'])} from process start to the first step, median)" if startup else "")
    return (
        f"The cases are scaled down: their training loops last {duration(loop['median'])} (median; "
        f"{duration(loop['min'])} to {duration(loop['max'])}) at {duration(step['median'])} per step, where real "
        f"training runs last hours to weeks; the crashes happen at a median {fraction['median']:.0%} of the run. "
        "A restart replays all the steps up to the crash, so its restore time grows with the run: at the same "
        f"relative crash point of a 24-hour run it would replay about {fraction['median'] * 24:.1f} hours. "
        "Checkpoint-retry replays at most one checkpoint interval (CheckFreq's frequency depends on the step and "
        "save times, not on the run's length) but, like a restart, pays the process start-up" + started + ", which "
        "on real jobs (scheduler, containers, distributed initialisation, data loaders, a checkpoint of gigabytes) "
        "takes minutes. In-situ recovery pays neither: its restore time does not depend on the run's length or "
        "start-up, so the ratios here understate those of real runs."
    )


def _cases(count: int) -> str:
    return f"{count} case" + ("" if count == 1 else "s")


def failures(cases: list[dict[str, Any]]) -> list[str]:
    out = []
    for case in cases:
        if case.get("error"):
            out.append(f"{case['id']}: {case['error']}")
        for name, result in case.get("strategies", {}).items():
            if result["recovered"] < result["n"]:
                out.append(f"{case['id']}: {name} did not recover every time")
    return out


def write(results: dict[str, Any], out: Path) -> str:
    """Write results.json and results.md into *out*; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    strategies = [s for s in results["settings"]["strategies"]]
    machine = results["machine"]
    header = [
        "# crashbench results",
        "",
        f"`{results['command']}` on {results['date']}: {machine['platform']}, {machine['cpu_count']} CPUs, "
        f"Python {machine['python']}, torch {machine.get('torch')}, GPU: {machine.get('gpu') or 'none'}; "
        f"{results.get('elapsed_s', 0) / 60:.1f} min.",
        "",
        "",
    ]
    notes = _failure_notes(results["cases"])
    text = "\n".join(header) + table(results["cases"], strategies) + "\n\n" + summary_text(results) + "\n" + notes
    (out / "results.md").write_text(text, encoding="utf-8")
    return text


def _failure_notes(cases: list[dict[str, Any]]) -> str:
    lines = []
    for case in cases:
        for name, result in case.get("strategies", {}).items():
            errors = {r["error"].splitlines()[0] for r in result["runs"] if r.get("error")}
            lines += [f"- {case['id']}, {LABELS.get(name, name)}: {e}" for e in sorted(errors)]
        for problem in (case.get("overhead") or {}).get("errors", []):
            lines.append(f"- {case['id']}, overhead: {problem.splitlines()[0]}")
    return ("\n### Problems\n\n" + "\n".join(lines) + "\n") if lines else ""


