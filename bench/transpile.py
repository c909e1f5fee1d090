"""Transpile throughput on a synthetic 100,000-line project (bench/generate.py).

* ``daifu vaccinate`` end to end, fresh output, all cores (``--jobs`` default): wall time,
  lines/s, peak memory (bench/treemem.py: the largest process, and the whole process tree);
* re-vaccinating: ``daifu vaccinate --force`` on the same output with nothing changed, and
  after a one-file change; ``daifu patch`` after a one-file change; and an in-process check
  that a one-file change transforms that file only;
* the time split per pass (FileResult.timings) from running the pipeline in one process on a
  sample of the files, and a cProfile of the same on a smaller sample.

* each file of extreme shape (``shapes/``: bench/shapes.py) vaccinated on its own in one
  process, in CPU seconds (the machine's other work does not count) and lines per CPU-second,
  and the same at a quarter of the size: a pass whose cost grows faster than the file shows as
  a ratio above 4.

Subcommands used by the harness (each in a fresh process):

    python -m bench.transpile shapes PROJECT
    python -m bench.transpile passes PROJECT --every K
    python -m bench.transpile profile PROJECT --every K --text FILE
    python -m bench.transpile recheck PROJECT OUTPUT
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import vax
from .common import env_for_child, log, run_json
from .generate import generate

PASSES = ("parse", "select", "analyze", "emit", "format", "verify")


def _files(project: Path, every: int) -> list[Path]:
    return sorted(project.rglob("*.py"))[::every]


def _added_function(index: int) -> str:
    return (
        f"\n\ndef bench_added_{index}(values):\n"
        f"    total = 0\n"
        f"    for value in values:\n"
        f"        with torch.no_grad():\n"
        f"            total += value * {index}\n"
        f"    return total\n"
    )


def _change_one_file(project: Path, index: int) -> str:
    files = [p for p in sorted(project.rglob("*.py")) if p.name != "__init__.py"]
    target = files[(len(files) // 2 + index) % len(files)]
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(_added_function(index))
    return target.relative_to(project).as_posix()


# -- in-process parts ------------------------------------------------------------------------


def passes(project: Path, every: int) -> dict[str, Any]:
    from daifu_cli import pipeline

    options = pipeline.Options()
    totals = dict.fromkeys(PASSES, 0.0)
    lines = files = 0
    started = time.perf_counter()
    cpu_started = time.thread_time()
    for path in _files(project, every):
        data = path.read_bytes()
        result = pipeline.vaccinate_source(path.relative_to(project).as_posix(), data, options)
        for key, value in result.timings.items():
            totals[key] = totals.get(key, 0.0) + value
        lines += data.count(b"\n")
        files += 1
    wall = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    accounted = sum(totals.values())
    return {
        "files": files,
        "lines": lines,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "lines_per_s_one_core": round(lines / wall, 1),
        "lines_per_cpu_s_one_core": round(lines / cpu, 1),
        "seconds": {k: round(v, 3) for k, v in totals.items()},
        "share_pct": {k: round(100 * v / wall, 1) for k, v in totals.items()},
        "cpu_s_by_pass_estimate": {k: round(cpu * v / wall, 3) for k, v in totals.items()},
        "unaccounted_s": round(wall - accounted, 3),
    }


def shapes(project: Path) -> dict[str, Any]:
    """Per file of extreme shape: CPU time and lines per CPU-second, at full and quarter size."""
    from daifu_cli import pipeline

    from .generate import SHAPE_LINES
    from .shapes import SHAPES

    options = pipeline.Options()
    # Imports and templates, black's blank-line tracker included (script code needs it; the
    # first shape needing it paid its import, ~0.06 s of CPU, when only functions warmed up).
    pipeline.vaccinate_source("warm.py", SHAPES["many_functions"](40).encode(), options)
    pipeline.vaccinate_source("warm_script.py", b"for step in range(2):\n    print(step)\n", options)
    out: dict[str, Any] = {}
    for name in SHAPE_LINES:
        path = project / "shapes" / f"{name}.py"
        if not path.exists():
            continue
        data = path.read_bytes()
        lines = data.count(b"\n")
        quarter = SHAPES[name](max(100, lines // 4)).encode()
        figures = {}
        for label, text in (("full", data), ("quarter", quarter)):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = pipeline.vaccinate_source(f"shapes/{name}.py", text, options)
            cpu, wall = time.process_time() - cpu_started, time.perf_counter() - started
            figures[label] = {"lines": text.count(b"\n"), "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                              "functions": len(result.vaccinated)}
        full, part = figures["full"], figures["quarter"]
        rate = full["lines"] / max(full["cpu_s"], 1e-9)
        out[name] = {
            **full,
            "lines_per_cpu_s": round(rate, 1),
            "lines_per_s": round(full["lines"] / max(full["wall_s"], 1e-9), 1),
            "quarter_size": part,
            "cpu_ratio_for_lines_ratio": [round(full["cpu_s"] / max(part["cpu_s"], 1e-9), 2),
                                          round(full["lines"] / max(part["lines"], 1), 2)],
            "target": ">= 5,000 lines per CPU-second",
            "meets_target": rate >= 5000,
        }
    return out


def _group(filename: str, func: str) -> str:
    if filename == "~":
        if "black" in func:
            return "black (compiled)"
        return "builtins/C"
    path = filename.replace("\\", "/")
    if "/daifu_cli/" in path:
        return "daifu_cli/" + path.split("/daifu_cli/", 1)[1]
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0]
    return "stdlib " + Path(path).name


def profile(project: Path, every: int, text_file: Path | None, limit: int = 20) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from daifu_cli import pipeline

    options = pipeline.Options()
    paths = _files(project, every)
    datas = [(p.relative_to(project).as_posix(), p.read_bytes()) for p in paths]
    pipeline.vaccinate_source(*datas[0], options)  # imports and template caches
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for relpath, data in datas:
        pipeline.vaccinate_source(relpath, data, options)
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    groups: dict[str, float] = {}
    for (filename, line, func), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{_short(filename)}:{line}({func})" if filename != "~" else func
        rows.append({"function": where, "calls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
        group = _group(filename, func)
        groups[group] = groups.get(group, 0.0) + tt
    if text_file is not None:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(60)
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(60)
        text_file.write_text(buffer.getvalue(), encoding="utf-8")
    return {
        "files": len(datas),
        "lines": sum(d.count(b"\n") for _, d in datas),
        "wall_s_under_profiler": round(wall, 3),
        "top_tottime": sorted(rows, key=lambda r: -r["tottime_s"])[:limit],
        "top_cumtime": sorted(rows, key=lambda r: -r["cumtime_s"])[:limit],
        "own_time_by_module_pct": {
            k: round(100 * v / total, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:15]
        },
    }


def _short(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/daifu_cli/", "/site-packages/", "/lib/python3"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return ("daifu_cli/" + tail) if marker == "/daifu_cli/" else tail.split("/", 1)[-1]
    return Path(path).name


def recheck(project: Path, output: Path) -> dict[str, Any]:
    """Change one file, re-vaccinate with --force in-process, count the files transformed."""
    from daifu_cli import project as proj
    from daifu_cli.options import ProjectConfig

    changed = _change_one_file(project, 1)
    transformed: list[str] = []
    original = proj._transform_one

    def counting(item: tuple[str, bytes], options: Any, *rest: Any) -> Any:
        transformed.append(item[0])
        return original(item, options, *rest)

    proj._transform_one = counting  # type: ignore[assignment]
    started = time.perf_counter()
    outcome = proj.vaccinate_project(proj.Request(project, output, ProjectConfig(), force=True))
    wall = time.perf_counter() - started
    return {
        "changed_file": changed,
        "transformed_files": transformed,
        "cached_files": sum(1 for s in outcome.summaries.values() if s.cached),
        "python_files": outcome.python_files,
        "wall_s": round(wall, 3),
        "only_the_changed_file": transformed == [changed],
    }


# -- the harness -----------------------------------------------------------------------------


def _timed(cmd: list[str]) -> dict[str, Any]:
    env = env_for_child({"PYTHONPATH": str(vax.ROOT)})
    result = run_json([sys.executable, "-m", "bench.treemem", "--", *cmd], env=env, timeout=3600)
    if result["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result['stdout_tail']}\n{result['stderr_tail']}")
    return result


def _sub(args: list[str], timeout: float = 3600) -> dict[str, Any]:
    return run_json([sys.executable, "-m", "bench.transpile", *args],
                    env=env_for_child({"PYTHONPATH": str(vax.ROOT)}), timeout=timeout)


def run(work: Path, lines: int, pass_every: int, profile_every: int, results_dir: Path) -> dict[str, Any]:
    if not vax.have_daifu():
        return {"skipped": "daifu's transpiler is not installed here"}
    project, output = work / "project", work / "project_vax"
    for folder in (project, output):
        if folder.exists():
            shutil.rmtree(folder)
    counts = generate(project, lines)
    log(f"  transpile: generated {counts['files']} files, {counts['lines']} lines")
    daifu = vax.daifu_command()

    full = _timed([*daifu, "vaccinate", str(project), "-o", str(output)])
    done = next((x for x in full["stderr_tail"].splitlines() if x.startswith("done:")), "")
    rate = counts["lines"] / full["wall_s"]
    log(f"  transpile: full vaccinate {full['wall_s']:.1f} s ({rate:,.0f} lines/s), "
        f"tree peak {full['tree_peak_kb'] / 1024:.0f} MiB")

    nochange = _timed([*daifu, "vaccinate", str(project), "-o", str(output), "--force", "-q"])
    changed = _change_one_file(project, 0)
    onefile = _timed([*daifu, "vaccinate", str(project), "-o", str(output), "--force", "-q"])
    check = _sub(["recheck", str(project), str(output)])
    patched_file = _change_one_file(project, 2)
    patch = _timed([*daifu, "patch", str(project), "-o", str(output)])
    patch_line = patch["stderr_tail"].strip().splitlines()[-1] if patch["stderr_tail"].strip() else ""
    log(f"  transpile: --force unchanged {nochange['wall_s']:.2f} s, one file {onefile['wall_s']:.2f} s, "
        f"patch {patch['wall_s']:.2f} s ({patch_line})")

    shaped = _sub(["shapes", str(project)])
    log("  transpile: shapes " + ", ".join(f"{k} {v['lines_per_cpu_s']:,.0f} lines/CPU-s" for k, v in shaped.items()))
    split = _sub(["passes", str(project), "--every", str(pass_every)])
    log(f"  transpile: pass split on {split['lines']} lines: {split['share_pct']}")
    prof = _sub(["profile", str(project), "--every", str(profile_every), "--text",
                 str(results_dir / "profile_transpile.txt")])
    return {
        "project": {**counts, "generator": f"python -m bench.generate OUT --lines {lines} --seed 0"},
        "full": {
            "command": "daifu vaccinate PROJECT -o OUTPUT (fresh output, --jobs default: all cores)",
            "wall_s": round(full["wall_s"], 3),
            "lines_per_s": round(rate, 1),
            "cpu_s": round(full["user_s"] + full["sys_s"], 2),
            "lines_per_cpu_s": round(counts["lines"] / (full["user_s"] + full["sys_s"]), 1),
            "peak_rss_largest_process_mib": round(full["maxrss_largest_kb"] / 1024, 1),
            "peak_rss_process_tree_mib": round(full["tree_peak_kb"] / 1024, 1),
            "cli_summary": done,
            "target": ">= 5,000 lines/s",
            "meets_target": rate >= 5000,
        },
        "force_unchanged": {"wall_s": round(nochange["wall_s"], 3)},
        "force_one_file": {"changed_file": changed, "wall_s": round(onefile["wall_s"], 3),
                           "peak_rss_process_tree_mib": round(onefile["tree_peak_kb"] / 1024, 1)},
        "force_one_file_in_process_check": check,
        "patch_one_file": {
            "changed_file": patched_file,
            "wall_s": round(patch["wall_s"], 3),
            "cli_output": patch_line,
            "only_the_changed_file": patch_line == f"patched {patched_file}",
        },
        "shapes": {**shaped, "how": "pipeline.vaccinate_source on each file of shapes/ alone, in one process; "
                                    "CPU time of that process (time.process_time)"},
        "pass_split": {**split, "how": f"pipeline.vaccinate_source in one process on every {pass_every}th file"},
        "profile": {**prof, "how": f"cProfile of pipeline.vaccinate_source on every {profile_every}th file",
                    "full_text": "bench/results/profile_transpile.txt"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("shapes")
    p.add_argument("project", type=Path)
    p = sub.add_parser("passes")
    p.add_argument("project", type=Path)
    p.add_argument("--every", type=int, default=1)
    p = sub.add_parser("profile")
    p.add_argument("project", type=Path)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--text", type=Path)
    p = sub.add_parser("recheck")
    p.add_argument("project", type=Path)
    p.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "shapes":
        result = shapes(args.project)
    elif args.cmd == "passes":
        result = passes(args.project, args.every)
    elif args.cmd == "profile":
        result = profile(args.project, args.every, args.text)
    else:
        result = recheck(args.project, args.output)
    print("BENCH " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
