"""daifu's performance benchmark: ``python -m bench`` (also ``nox -s bench``).

    python -m bench                       # everything CPU-side (about 8 minutes on 2 cores)
    python -m bench --quick               # smaller sizes, fewer repetitions (about 2 minutes)
    python -m bench --only restore,import # some parts: overhead (= cpu,micro,gpu), restore, checkpoint, transpile, import
    python -m bench --only instructions   # CPU loop in instruction counts under valgrind (~5 min; not in the default)
    python -m bench --only signals        # the signal handlers' cost per step, A/B and A/A, in instructions (valgrind)
    python -m bench --gpu-only            # the GPU training loop only (needs just torch)
    python -m bench --gpu-only --results DIR && python -m bench --merge DIR/results.json

Results go to bench/results/results.json and results.md (``--results DIR`` for elsewhere);
a run replaces the sections it ran and keeps the others, each section recording its machine,
date and command. A short table is printed at the end.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/__main__.py`: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # a bare checkout without daifu installed: `bench` from the repo root
    sys.path.insert(0, _ROOT)

from bench import report  # noqa: E402
from bench.common import (  # noqa: E402
    DEFAULT_RESULTS,
    ROOT,
    load_results,
    loadavg,
    log,
    machine,
    now,
    save_results,
)

PARTS = ("overhead", "restore", "checkpoint", "transpile", "import")
#: Finer parts of "overhead", for --only.
SUBPARTS = ("cpu", "micro", "gpu")
#: Parts run only when named (slow, and need valgrind).
EXTRA = ("instructions", "signals")


def _git() -> dict[str, object]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        pass
    return {}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts of: {', '.join(PARTS)} (overhead is {', '.join(SUBPARTS)}); "
                             f"also {', '.join(EXTRA)}, run only when named")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--gpu-only", action="store_true", help="only the GPU training loop (needs only torch)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="folder for results.json/.md")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--gpu-dry-run", action="store_true",
                        help="with --gpu-only: run the GPU loop's code path on the CPU, tiny (a smoke test; "
                             "results go to the section overhead_gpu_dry_run)")
    parser.add_argument("--merge", type=Path, metavar="RESULTS_JSON",
                        help="only merge the sections of another results.json (say, from a GPU machine) "
                             "into --results, and rewrite results.md")
    args = parser.parse_args(argv)
    if args.merge:
        results = load_results(args.results)
        other = load_results(args.merge.parent if args.merge.name == "results.json" else args.merge)
        results.setdefault("sections", {}).update(other.get("sections", {}))
        results["updated"] = now()
        save_results(args.results, results, report.markdown(results))
        print(report.terminal_table(results))
        return 0
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS + SUBPARTS + EXTRA]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)} (choose from {', '.join(PARTS + SUBPARTS + EXTRA)})")
    if "overhead" in parts:
        parts += [p for p in SUBPARTS if p not in parts]
    quick = args.quick
    command = shlex.join(["python", "-m", "bench", *argv])
    info = machine()
    git = _git()
    results = load_results(args.results)
    sections = results.setdefault("sections", {})
    started_all = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="daifu-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)

        def record(name: str, fn) -> None:  # type: ignore[no-untyped-def]
            log(f"== {name}")
            before = loadavg()
            started = time.perf_counter()
            try:
                result = fn()
            except Exception as exc:  # one broken part must not lose the others
                import traceback

                traceback.print_exc()
                result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            previous = sections.get(name, {}).get("result", {})
            if "skipped" in result and previous and "skipped" not in previous and "error" not in previous:
                log(f"   {name}: skipped here ({result['skipped']}); keeping the earlier result "
                    f"from {sections[name].get('date')}")
                return
            sections[name] = {
                "date": now(),
                "command": command,
                "quick": quick,
                "elapsed_s": round(time.perf_counter() - started, 1),
                "loadavg_before": before,
                "loadavg_after": loadavg(),
                "machine": info,
                "git": git,
                "result": result,
            }
            results["updated"] = now()
            save_results(args.results, results, report.markdown(results))

        from bench import overhead

        if args.gpu_only and args.gpu_dry_run:
            record("overhead_gpu_dry_run", lambda: overhead.gpu_training(work / "gpu", 2, 3, 1, "cpu", 1))
        elif args.gpu_only:
            record("overhead_gpu", lambda: overhead.gpu_training(work / "gpu", 3 if quick else 8,
                                                                 100 if quick else 200, 30))
        else:
            if "cpu" in parts:
                record("overhead_cpu", lambda: overhead.cpu_training(work / "cpu", 3 if quick else 10,
                                                                     100 if quick else 300, 30))
            if "instructions" in parts:
                from bench import instructions

                record("overhead_cpu_instructions", lambda: instructions.run(work / "instructions", 5, 15, 5,
                                                                                             2 if quick else 4))
            if "signals" in parts:
                from bench import signal_handlers

                record("overhead_signal_handlers", lambda: signal_handlers.run(work / "signals", 5, 15, 5,
                                                                               2 if quick else 4))
            if "micro" in parts:
                record("overhead_micro", lambda: overhead.micro(work / "micro", 7 if quick else 21,
                                                                10.0 if quick else 20.0))
            if "gpu" in parts:
                record("overhead_gpu", lambda: overhead.gpu_training(work / "gpu", 3 if quick else 8,
                                                                     100 if quick else 200, 30))
            if "restore" in parts:
                from bench import restore

                record("restore", lambda: restore.run(work / "restore", 5 if quick else 20, 2 if quick else 10))
            if "checkpoint" in parts:
                from bench import checkpoint

                sizes = ["16.8M"] if quick else list(checkpoint.SIZES)
                record("checkpoint", lambda: checkpoint.run(work / "checkpoint", 2 if quick else 3, sizes))
            if "transpile" in parts:
                from bench import transpile

                lines = 20_000 if quick else 100_000
                record("transpile", lambda: transpile.run(work / "transpile", lines, 4 if quick else 8, 10 if quick else 20,
                                                          args.results))
            if "import" in parts:
                from bench import importcost

                record("import", lambda: importcost.run(work / "import", 12 if quick else 40))

    log(f"== done in {time.perf_counter() - started_all:.0f} s; results in {args.results}/results.md")
    print(report.terminal_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
