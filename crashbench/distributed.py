"""``python -m crashbench.distributed [--quick] [--out DIR] [--case ID ...] [--reps N] [--ranks N]``

Distributed crash cases under a real torchrun (2 gloo ranks, or 3 or 4 with ``--ranks``; CPU,
a tiny DDP model): a bug on one rank, the same bug on every rank, a rank killed (a real SIGKILL) before, during and after
the gradient all-reduce, during a sharded optimizer's step, while it writes its periodic
checkpoint, and a survivor killed while it writes daifu's job checkpoint. Four strategies, each under ``torchrun --max-restarts=1``:

* ``restart``: the plain program; torchrun restarts it from scratch (for a bug, with the fix
  written into its file as soon as the crash is visible);
* ``checkpoint``: the program saves every ``EVERY`` steps and loads its last checkpoint at
  start;
* ``daifu``: the vaccinated plain program; a bug is fixed with ``daifu patch`` as soon as
  daifu's ``crash`` event is in ``.daifu/log.jsonl``; after a lost rank the restarted job
  starts from scratch (``DAIFU_JOB_RESUME=0``);
* ``daifu-job-resume`` (kills only): the restarted workers resume from daifu's job checkpoint.

Writes ``distributed.json`` and ``distributed.md`` into ``--out`` (default
``crashbench/results/``). See crashbench/README.md, "Distributed cases".
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crashbench import distributed_jobs, distributed_report, report, timing
from crashbench.distributed_jobs import Job, Mark, read_events, run_job
from crashbench.distributed_metrics import finals, measure
from crashbench.distributed_program import BUG, FIX, SOURCE

STEPS = 20
EVERY = 5
FAULT_STEP = 12
#: ``daifu``: a lost rank's job restarts from scratch (``DAIFU_JOB_RESUME=0``); ``daifu-job-resume``:
#: the restarted workers resume from daifu's job checkpoint (kills only: a bug is fixed in situ).
STRATEGIES = ("restart", "checkpoint", "daifu", "daifu-job-resume")
#: Bound of one job: start-up (torch's import twice per attempt on 2 shared cores), 20 steps,
#: a restart after the agent's 5 s monitor interval.
JOB_TIMEOUT_S = 150.0
DEFAULT_OUT = Path(__file__).parent / "results"


@dataclass(frozen=True)
class DistCase:
    id: str
    fault: str
    title: str
    zero: bool = False
    step: int = FAULT_STEP
    not_applicable: dict[str, str] = field(default_factory=dict)
    #: Extra environment of the daifu strategies (a fault inside daifu's own runtime).
    daifu_env: dict[str, str] = field(default_factory=dict)

    @property
    def bug(self) -> bool:
        return self.fault.startswith("bug-")


CASES = [
    DistCase("bug_one_rank", "bug-one", "NameError on rank 1 only, after step 12's update"),
    DistCase("bug_all_ranks", "bug-all", "the same NameError on both ranks, after step 12's update"),
    DistCase("kill_before_allreduce", "kill-before", "rank 1 kill -9 at the start of step 12 (rank 0 goes on into the all-reduce)"),
    DistCase("kill_during_allreduce", "kill-during", "rank 1 kill -9 inside step 12's backward, rank 0 waiting in the all-reduce"),
    DistCase("kill_after_allreduce", "kill-after", "rank 1 kill -9 after step 12's optimizer step (the update applied)"),
    DistCase("kill_zero_step", "kill-zero", "rank 1 kill -9 inside ZeroRedundancyOptimizer.step() of step 12, after its shard's update, before the broadcast", zero=True),
    DistCase("kill_during_checkpoint", "kill-save", "rank 1 kill -9 while it writes its periodic checkpoint after step 14 (written, not yet renamed)", step=14,
             not_applicable={
                 "restart": "the plain program writes no checkpoint",
                 "daifu": "daifu writes its checkpoint only at a crash or a loss: see kill_during_job_checkpoint",
                 "daifu-job-resume": "see kill_during_job_checkpoint",
             }),
    DistCase("kill_during_job_checkpoint", "kill-during",
             "rank 1 kill -9 inside step 12's backward; rank 0, the survivor, SIGKILLed while it writes daifu's job checkpoint (its payload written, not yet named)",
             daifu_env={"DAIFU_TEST_JOB_WRITE_FAULT": "description", "DAIFU_TEST_JOB_WRITE_RANKS": "0"},
             not_applicable={
                 "restart": "no daifu job checkpoint (the plain program's own: kill_during_checkpoint)",
                 "checkpoint": "no daifu job checkpoint (the plain program's own: kill_during_checkpoint)",
                 "daifu": "DAIFU_JOB_RESUME=0 writes no job checkpoint",
             }),
]
QUICK = ("bug_one_rank", "kill_during_allreduce")


def say(text: str) -> None:
    print(f"crashbench.distributed: {text}", file=sys.stderr, flush=True)


def write_program(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "main.py"
    path.write_text(textwrap.dedent(SOURCE).lstrip(), encoding="utf-8")
    return path


def case_env(case: DistCase, every: int) -> dict[str, str]:
    return {"CB_STEPS": str(STEPS), "CB_EVERY": str(every), "CB_FAULT": case.fault,
            "CB_FAULT_STEP": str(case.step), "CB_ZERO": "1" if case.zero else "0"}


def reference(work: Path, zero: bool) -> dict[int, str]:
    """The fixed job from scratch (no fault, no checkpoints): every rank's final weights."""
    folder = work / f"reference-{'zero' if zero else 'ddp'}"
    for _ in range(2):  # again if gloo aborted a rank of this plain run at shutdown
        shutil.rmtree(folder, ignore_errors=True)
        write_program(folder)
        job = run_job(folder, {"CB_STEPS": str(STEPS), "CB_FAULT": "none", "CB_ZERO": "1" if zero else "0"},
                      max_restarts=0, timeout_s=JOB_TIMEOUT_S)
        got = finals(job.marks())
        if job.returncode == 0 and len(got) == distributed_jobs.RANKS:
            return got
    raise RuntimeError(f"the reference job failed: {job.output()[1][-2000:]}")


def fault_marked(folder: Path, marks: list[Mark]) -> bool:
    return any(m.what == "fault" for m in marks)


def crash_logged(folder: Path, marks: list[Mark]) -> bool:
    return any(e.get("event") == "crash" for e in read_events(folder))


def plain_run(case: DistCase, folder: Path, every: int) -> Job:
    main = write_program(folder)

    def fix() -> None:  # written into the file torchrun's next attempt runs
        main.write_text(main.read_text().replace(BUG, FIX, 1))

    return run_job(folder, case_env(case, every), max_restarts=1, timeout_s=JOB_TIMEOUT_S,
                   crash_seen=fault_marked if case.bug else None, fix=fix if case.bug else None)


def daifu_run(case: DistCase, folder: Path, job_resume: bool = False) -> Job:
    from daifu_cli.patch import patch_once

    source = folder / "src"
    main = write_program(source)
    output = folder / "vax"
    subprocess.run([sys.executable, "-m", "daifu_cli", "vaccinate", str(source), "-o", str(output)],
                   check=True, capture_output=True, timeout=300)

    def fix() -> None:  # as a person would: edit the source, then `daifu patch`
        main.write_text(main.read_text().replace(BUG, FIX, 1))
        patch_once(source, output)

    env = {**case_env(case, 0), **case.daifu_env, "DAIFU_JOB_RESUME": "1" if job_resume else "0"}
    return run_job(output, env, max_restarts=1, timeout_s=JOB_TIMEOUT_S,
                   crash_seen=crash_logged if case.bug else None, fix=fix if case.bug else None, daifu=True)


def run_strategy(case: DistCase, strategy: str, folder: Path, ref: dict[int, str]) -> dict[str, Any]:
    if strategy.startswith("daifu"):
        job = daifu_run(case, folder, job_resume=strategy == "daifu-job-resume")
    else:
        job = plain_run(case, folder, EVERY if strategy == "checkpoint" else 0)
    result = measure(job, ref, daifu=strategy.startswith("daifu"))
    result["note"] = note(case, strategy, result)
    return result


def note(case: DistCase, strategy: str, result: dict[str, Any]) -> str:
    """What the figures of this strategy measure, where that is not obvious."""
    if strategy == "daifu" and not case.bug:
        return ("DAIFU_JOB_RESUME=0: the survivor notices the loss, writes its process checkpoint and "
                "exits 1; torchrun restarts both workers, which start from scratch")
    if strategy == "daifu-job-resume" and case.zero:
        return ("the survivor failed inside the sharded optimizer's step: no job checkpoint; the restarted "
                "workers say so and run the program from its start")
    if strategy == "daifu-job-resume" and case.daifu_env:
        return ("the survivor's job checkpoint was cut short (no job.json): the restarted workers say so "
                "and run the program from its start")
    if strategy == "daifu-job-resume":
        return "the restarted workers resume from daifu's job checkpoint (DAIFU_JOB_RESUME, the default)"
    if strategy == "daifu":
        return "in situ: the crashed rank waits, the other holds or waits in its collective; one daifu patch resumes both"
    if case.bug:
        return "the fix is written into main.py as soon as the fault mark appears; torchrun's restart runs it"
    return ""


def run_case(case: DistCase, work: Path, refs: dict[bool, dict[int, str]], reps: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": case.id, "title": case.title, "fault": case.fault, "fault_step": case.step,
                             "steps": STEPS, "zero": case.zero, "strategies": {}}
    for strategy in STRATEGIES:
        if strategy == "daifu-job-resume" and case.bug:
            continue  # a bug is fixed in situ: no restart, the same run as `daifu`
        if strategy in case.not_applicable:
            entry["strategies"][strategy] = {"not_applicable": case.not_applicable[strategy]}
            say(f"{case.id}: {strategy}: not applicable ({case.not_applicable[strategy]})")
            continue
        if case.zero not in refs:
            refs[case.zero] = reference(work, case.zero)
        runs = []
        for rep in range(reps):
            result = run_strategy(case, strategy, work / case.id / strategy / str(rep), refs[case.zero])
            runs.append(result)
            say(f"{case.id}: {strategy} #{rep + 1}: {'recovered' if result['recovered'] else 'NOT recovered'}"
                + (f", back {result['time_back_s']:.2f} s" if result.get("time_back_s") is not None else "")
                + (f", lost {result.get('lost_steps')} steps" if result.get("lost_steps") is not None else "")
                + (f" ({result['why_not']})" if result.get("why_not") else ""))
        entry["strategies"][strategy] = {"runs": runs, **summary(runs)}
    return entry


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("detection_s", "pause_propagation_s", "time_back_s", "lost_steps", "fix_done_s", "end_s")
    out: dict[str, Any] = {k: timing.spread(r.get(k) for r in runs) for k in keys}
    out["checkpoint_ms"] = timing.spread((r.get("checkpoint_ms") or {}).get("median") for r in runs)
    out["recovered"] = sum(1 for r in runs if r["recovered"])
    out["n"] = len(runs)
    return out


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crashbench.distributed", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help=f"CI: only {', '.join(QUICK)}")
    parser.add_argument("--case", action="append", default=[], choices=[c.id for c in CASES], help="only this case (repeatable)")
    parser.add_argument("--reps", type=int, default=1, metavar="N", help="runs of every strategy (default 1)")
    parser.add_argument("--ranks", type=int, default=2, choices=(2, 3, 4),
                        help="ranks of every job (default 2; 3 and 4 write distributed-<n>ranks.json and .md)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: crashbench/results/)")
    parser.add_argument("--work", type=Path, help="keep the jobs' folders here (default: a temporary folder, removed)")
    return parser.parse_args(argv)


def run(argv: list[str]) -> tuple[dict[str, Any], int]:
    args = parse(argv)
    distributed_jobs.RANKS = args.ranks
    chosen = [c for c in CASES if c.id in (args.case or (QUICK if args.quick else [c.id for c in CASES]))]
    work = args.work or Path(tempfile.mkdtemp(prefix="crashbench-dist-"))
    say(f"{len(chosen)} case(s), {args.reps} run(s) each, work folder {work}, load {os.getloadavg()}")
    started = time.time()
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "crashbench.distributed", *argv]),
        "machine": report.machine(), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": {"ranks": args.ranks, "backend": "gloo", "steps": STEPS, "checkpoint_every": EVERY,
                     "max_restarts": 1, "monitor_interval_s": 5, "reps": args.reps, "quick": args.quick},
        "cases": [],
    }
    refs: dict[bool, dict[int, str]] = {}
    try:
        for case in chosen:
            say(f"--- {case.id}: {case.title}")
            results["cases"].append(run_case(case, work, refs, args.reps))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["reference_finals"] = {("zero" if k else "ddp"): v for k, v in refs.items()}
    results["elapsed_s"] = time.time() - started
    results["machine"]["loadavg_end"] = os.getloadavg()
    name = "distributed" if args.ranks == 2 else f"distributed-{args.ranks}ranks"
    distributed_report.write(results, args.out, name)
    say(f"wrote {args.out}/{name}.json, {name}.md ({results['elapsed_s'] / 60:.1f} min)")
    failed = [c["id"] for c in results["cases"] for s in c["strategies"].values()
              if "runs" in s and s["recovered"] < s["n"]]
    return results, 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run(list(sys.argv[1:] if argv is None else argv))[1]


if __name__ == "__main__":
    sys.exit(main())
