"""``python -m crashbench`` (and ``daifu bench``): measure every recovery strategy on the cases.

    python -m crashbench [--case ID ...] [--scenario S ...] [--quick] [--reps N] [--out DIR]
                         [--no-plots] [--strategies restart,checkpoint,daifu-resume,insitu] [--skip-overhead]
                         [--skip-distributed]

Cases run one after the other, and so do all their processes: the measurements are wall-clock
times of real processes, which a second process on the same cores would distort. See
``crashbench/README.md`` for what is measured and the default repetitions.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crashbench import harness, report, strategies, timing
from crashbench.case import SCENARIOS, Case, all_cases

STRATEGIES = ("restart", "checkpoint", "daifu-resume", "insitu")
DEFAULT_OUT = Path(__file__).parent / "results"
#: Default repetitions, chosen so that the full CPU run of ~30 cases fits in 30 minutes on an
#: idle 2-core machine (a case then costs ~50 s of processes, most of it importing torch): one
#: crash run shared by the baselines with one rerun each (their restore times are replayed
#: work and process start-up, seconds that vary little), two in-situ runs through ``daifu
#: patch`` plus one through the action snippet where the case has one (milliseconds, where
#: scheduling noise matters), and two interleaved overhead rounds.
DEFAULT_REPS = {"baseline": 1, "insitu": 2, "snippet": 1, "overhead": 1}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crashbench", description="Measure restart, checkpoint-retry and in-situ (daifu) recovery on the crashbench cases.")
    parser.add_argument("--case", action="append", default=[], metavar="ID", help="only this case (repeatable)")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, help="only cases of this scenario (repeatable)")
    parser.add_argument("--quick", action="store_true", help="CI: one CPU case per scenario, 1 repetition, overhead on 1 case")
    parser.add_argument("--reps", type=int, metavar="N", help="repetitions of every strategy and overhead rounds (default: "
                        + ", ".join(f"{name} {count}" for name, count in DEFAULT_REPS.items()) + ")")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: crashbench/results/)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated subset of " + ",".join(STRATEGIES))
    parser.add_argument("--skip-overhead", action="store_true", help="skip the steady-state overhead runs")
    parser.add_argument("--skip-distributed", action="store_true",
                        help="skip the distributed cases (python -m crashbench.distributed; they run only when no --case or --scenario selects cases)")
    parser.add_argument("--threads", type=int, default=1, metavar="N", help="OMP/MKL threads of the case processes (default 1; 0: leave the environment's)")
    parser.add_argument("--work", type=Path, help="keep the runs' folders and logs here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = set(chosen) - set(STRATEGIES)
    if unknown or not chosen:
        parser.error(f"--strategies: unknown {sorted(unknown)}; choose from {','.join(STRATEGIES)}")
    args.strategies = [s for s in STRATEGIES if s in chosen]
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def select(args: argparse.Namespace, cases: list[Case]) -> list[Case]:
    if args.case:
        known = {c.id for c in cases}
        missing = [c for c in args.case if c not in known]
        if missing:
            raise SystemExit(f"crashbench: unknown case(s): {', '.join(missing)}")
        cases = [c for c in cases if c.id in args.case]
    if args.scenario:
        cases = [c for c in cases if c.scenario in args.scenario]
    if args.quick and not args.case:
        cases = quick_cases(cases)
    return cases


def quick_cases(cases: list[Case]) -> list[Case]:
    """One CPU case per scenario (the first by id), for a run of a few minutes."""
    picked: dict[str, Case] = {}
    for case in cases:
        if not case.gpu and case.scenario not in picked:
            picked[case.scenario] = case
    return [picked[s] for s in SCENARIOS if s in picked]


def reps(args: argparse.Namespace) -> dict[str, int]:
    if args.reps is not None:
        return dict.fromkeys(DEFAULT_REPS, args.reps)
    if args.quick:
        return dict.fromkeys(DEFAULT_REPS, 1)
    return dict(DEFAULT_REPS)


def say(text: str) -> None:
    print(f"crashbench: {text}", file=sys.stderr, flush=True)


def run_case(case: Case, work: Path, args: argparse.Namespace, counts: dict[str, int], with_overhead: bool, cuda: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": case.id, "scenario": case.scenario, "title": case.title, "crash_point": case.crash_point,
        "crash_step": case.crash_step, "steps": case.steps, "recovery": case.recovery, "gpu": case.gpu,
        "snippet": case.snippet is not None, "equal_result": case.equal_result,
        "equal_result_reason": case.equal_result_reason, "strategies": {},
    }
    if case.gpu and not cuda:
        entry["skipped"] = "needs a GPU (torch.cuda.is_available() is False)"
        say(f"{case.id}: skipped, {entry['skipped']}")
        return entry
    started = time.perf_counter()
    cal = strategies.calibrate(case, work / "calibration")
    entry["calibration"] = cal.as_dict()
    if cal.error:
        entry["error"] = cal.error
        say(f"{case.id}: {cal.error}")
        return entry
    say(f"{case.id}: t_i={cal.t_iteration * 1000 if cal.t_iteration else float('nan'):.2f} ms, "
        f"t_c={cal.t_checkpoint * 1000 if cal.t_checkpoint else float('nan'):.2f} ms, checkpoint every {cal.every} steps")
    if with_overhead:
        entry["overhead"] = strategies.overhead(case, work / "overhead", cal, counts["overhead"])
        ratios = entry["overhead"]["ratio"]
        say(f"{case.id}: overhead " + ", ".join(f"{k} x{v['median']:.3f}" for k, v in ratios.items() if v))
    runs: dict[str, list[dict[str, Any]]] = {}

    def record(name: str, rep: int, run: dict[str, Any]) -> None:
        run["rep"] = rep
        runs.setdefault(name, []).append(run)
        restore = run.get("restore_s")
        say(f"{case.id}: {name} #{rep + 1}: " + ("recovered" if run.get("recovered") else "NOT recovered")
            + (f", restore {restore:.3f} s" if restore is not None else "")
            + (f" ({run['error'].splitlines()[0]})" if run.get("error") else ""))

    chosen = [s for s in ("restart", "checkpoint") if s in args.strategies]
    for rep in range(counts["baseline"] if chosen else 0):
        for name, run in strategies.baselines(case, work / "baselines" / str(rep), cal, chosen).items():
            record(name, rep, run)
    if "daifu-resume" in args.strategies:
        for rep in range(counts["baseline"]):
            run = strategies.daifu_resume(case, work / "daifu-resume" / str(rep), cal)
            if run.get("not_applicable"):
                entry["no_process_checkpoint"] = run["not_applicable"]
                say(f"{case.id}: daifu-resume: not applicable ({run['not_applicable']})")
                break
            record("daifu-resume", rep, run)
    if "insitu" in args.strategies:
        routes = [("insitu", "automatic", counts["insitu"])] if case.recovery == "automatic" else [("insitu", "patch", counts["insitu"])]
        if case.snippet and case.recovery != "automatic":
            routes.append(("insitu-snippet", "snippet", counts["snippet"]))
        for name, route, count in routes:
            for rep in range(count):
                record(name, rep, strategies.in_situ(case, work / name / str(rep), cal, route))
    entry["strategies"] = {name: summarize(found) for name, found in runs.items()}
    entry["ratios"] = case_ratios(entry["strategies"])
    entry["elapsed_s"] = time.perf_counter() - started
    return entry


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    recovered = [r for r in runs if r.get("recovered")]
    return {
        "runs": runs,
        "n": len(runs),
        "recovered": len(recovered),
        "restore_s": timing.spread(r.get("restore_s") for r in runs),
        "total_s": timing.spread(r.get("total_s") for r in runs),
        "restore_ms_daifu": timing.spread(r.get("restore_ms_daifu") for r in runs),
        "lost_steps": timing.spread(r.get("lost_steps") for r in runs),
        "lost_s": timing.spread(r.get("lost_s") for r in runs),
        "checkpoint_bytes": timing.spread(r.get("checkpoint_bytes") for r in runs),
        "checkpoint_write_s": timing.spread(r.get("checkpoint_write_s") for r in runs),
        "equal": bool(recovered) and all(r.get("equal") for r in recovered),
    }


def case_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """How many times longer each baseline takes to restore than in-situ (medians)."""
    insitu = (results.get("insitu") or {}).get("restore_s")
    out = {}
    for baseline in ("restart", "checkpoint", "daifu-resume"):
        base = (results.get(baseline) or {}).get("restore_s")
        out[baseline] = timing.ratio(base["median"], insitu["median"]) if base and insitu else None
    return out


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    cases = select(args, all_cases())
    if not cases:
        say("no case selected")
        return 2
    counts = reps(args)
    overhead_ids = set() if args.skip_overhead else {c.id for c in cases[:1]} if args.quick else {c.id for c in cases}
    harness.THREADS = args.threads or None
    cuda = cuda_available()
    work = args.work or Path(tempfile.mkdtemp(prefix="crashbench-"))
    say(f"{len(cases)} case(s), repetitions {counts}, strategies {','.join(args.strategies)}, work folder {work}")
    started = time.time()
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "crashbench", *argv]),
        "machine": report.machine(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": {"repetitions": counts, "strategies": args.strategies, "quick": args.quick, "threads": harness.THREADS,
                     "overhead_cases": sorted(overhead_ids), "checkpoint_budget": timing.CHECKPOINT_BUDGET},
        "restore_definition": report.RESTORE_DEFINITION,
        "cases": [],
    }
    try:
        for case in cases:
            say(f"--- {case.id} ({case.scenario})")
            results["cases"].append(run_case(case, work / case.id, args, counts, case.id in overhead_ids, cuda))
    finally:
        harness.kill_all()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["elapsed_s"] = time.time() - started
    results["machine"]["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    results["summary"] = report.summary(results["cases"], args.strategies)
    table = report.write(results, args.out)
    if not args.no_plots:
        from crashbench import plots

        plots.write(results, args.out)
    print(table)
    status = 1 if report.failures(results["cases"]) else 0
    say(f"wrote {args.out}/results.json, results.md{'' if args.no_plots else ', restore_times.png, overhead.png'} "
        f"({results['elapsed_s'] / 60:.1f} min)")
    if not args.skip_distributed and not args.case and not args.scenario:
        status = max(status, run_distributed(args))
    return status


def run_distributed(args: argparse.Namespace) -> int:
    """The distributed cases (crashbench/distributed.py), into the same output folder."""
    from crashbench import distributed

    argv = ["--out", str(args.out)] + (["--quick"] if args.quick else [])
    if args.work is not None:
        argv += ["--work", str(args.work / "distributed")]
    if args.reps is not None:
        argv += ["--reps", str(args.reps)]
    return distributed.main(argv)


if __name__ == "__main__":
    sys.exit(main())
