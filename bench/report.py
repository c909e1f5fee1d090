"""results.json -> results.md, and the short table printed at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .common import fmt_spread

ORDER = ("overhead_cpu", "overhead_cpu_instructions", "overhead_signal_handlers", "overhead_gpu", "overhead_micro", "restore", "checkpoint", "transpile",
         "import", "overhead_gpu_dry_run")


def _ok(flag: Any) -> str:
    if isinstance(flag, dict):
        return ", ".join(f"{k}: {_ok(v)}" for k, v in flag.items())
    return "yes" if flag is True else "NO" if flag is False else "-"


def _s(d: dict[str, Any], key: str, unit: str = "", digits: int = 3, scale: float = 1.0) -> str:
    return fmt_spread(d.get(key, {}), unit, digits, scale)


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, figure, target, met) for the headline figures."""
    rows: list[tuple[str, str, str, str]] = []
    sections = results.get("sections", {})

    def res(name: str) -> dict[str, Any]:
        return sections.get(name, {}).get("result", {})

    cpu = res("overhead_cpu")
    noise = _aa_noise(cpu)

    def met(flag: Any) -> str:
        # A ratio inside the A/A control's own error says nothing about daifu either way.
        return _ok(flag) if noise is None or noise <= 0.005 else f"unresolved (A/A control off by {noise:.1%})"

    for key, fig in cpu.get("figures", {}).items():
        rows.append((f"CPU training loop, ratio of {fig['what']}", _s(fig, "ratio", "", 4),
                     "<= 1.005", met(cpu.get("meets_target", {}).get(key))))
    if "wall" in cpu.get("in_process", {}):
        for clock in ("wall", "cpu"):
            fig = cpu["in_process"][clock]
            rows.append((f"CPU training loop in one process, {clock} time ratio; min-of-N",
                         f"{_s(fig, 'ratio', '', 4)}; {fig['ratio_min_of_n']}", "<= 1.005",
                         met(fig["ratio"]["median"] <= 1.005)))
    if "wall" in cpu.get("in_process_control", {}):
        fig = cpu["in_process_control"]["cpu"]
        rows.append(("A/A control (original vs original, same harness), cpu time ratio; min-of-N",
                     f"{_s(fig, 'ratio', '', 4)}; {fig['ratio_min_of_n']}", "noise floor", "-"))
    ins = res("overhead_cpu_instructions")
    if "ratio_of_means" in ins:
        verdict = ins.get("meets_target")
        rows.append((f"CPU training loop, instructions per step (valgrind), vaccinated / original, mean of "
                     f"{ins['layouts']} memory layouts",
                     f"{ins['ratio_of_means']:.4f} +- {ins['two_standard_errors']:.2%} (2 SE); per layout "
                     f"{_s(ins, 'ratio_per_layout', '', 4)}; the original's count moves {ins['layout_spread_original_pct']:.2f} % "
                     "between layouts", "<= 1.005", verdict if isinstance(verdict, str) else _ok(verdict)))
    sig = res("overhead_signal_handlers")
    if "a_b_handlers_over_none" in sig:
        ab, aa, lay = sig["a_b_handlers_over_none"], sig["a_a_run_again"], sig["layout_a_a_longer_folder"]
        rows.append((f"CPU training loop, instructions per step (valgrind), signal handlers installed / not (A/B), "
                     f"next to A/A pairs (the same run again; a folder name one character longer), mean of "
                     f"{sig['layouts']} layouts",
                     f"A/B {ab['ratio_of_means']:.5f} +- {ab['two_standard_errors']:.3%}; A/A {aa['ratio_of_means']:.5f} "
                     f"+- {aa['two_standard_errors']:.3%}; layout A/A {lay['ratio_of_means']:.5f} +- "
                     f"{lay['two_standard_errors']:.3%} (2 SE)", "A/B inside the layout A/A noise",
                     _ok(sig.get("meets_target"))))
    derived = derived_cpu_overhead(sections)
    if derived:
        rows.append(("CPU training loop, daifu's added work per step: cells entered x micro cost per cell / step time",
                     f"{derived['cells_per_step']:g} cell x {derived['ns_per_cell']:.1f} ns = {derived['added_ns']:.0f} ns "
                     f"of {derived['step_ms']:.2f} ms: {derived['pct']:.4f} %", "<= 0.5 %", _ok(derived["pct"] <= 0.5)))
    gpu = res("overhead_gpu")
    for fig in gpu.get("figures", {}).values():
        rows.append((f"GPU training loop, ratio of {fig['what']}", _s(fig, "ratio", "", 4), "-", "-"))
    if gpu and "figures" not in gpu:
        rows.append(("GPU training loop", f"skipped: {gpu.get('skipped', gpu.get('error', '?'))}", "-", "-"))
    micro = res("overhead_micro").get("cases", {})
    for name, case in micro.items():
        per = case.get("added_ns_per_cell") or case.get("added_ns_per_iter")
        unit = "ns/cell" if case.get("added_ns_per_cell") else "ns/iter"
        rows.append((f"micro {name}: ratio; min-of-N ratio; added cost", f"{_s(case, 'ratio', '', 3)}; "
                     f"{case['ratio_min_of_n']:.3f}; {fmt_spread(per, ' ' + unit, 1)}", "-", "-"))
    restore = res("restore").get("configs", {})
    for key, entry in restore.items():
        lat = entry.get("latency_ms", {})
        if lat.get("n"):
            fig = f"median {lat['median']:.1f} ms, p95 {lat['p95']:.1f} ms (n={lat['n']}, {len(entry.get('failures', []))} failed)"
        else:
            fig = f"no successful trial ({len(entry.get('failures', []))} failed)"
        target = "median <= 50, p95 <= 200" if "meets_target" in entry else "- (includes the CLI)"
        rows.append((f"restore latency {key}", fig, target, _ok(entry.get("meets_target"))))
    tr = res("transpile")
    if "full" in tr:
        full = tr["full"]
        rows.append((f"transpile {tr['project']['lines']:,} lines (daifu vaccinate)",
                     f"{full['lines_per_s']:,.0f} lines/s ({full['wall_s']:.1f} s; "
                     f"{full.get('lines_per_cpu_s', float('nan')):,.0f} lines per CPU-second), peak RSS "
                     f"{full['peak_rss_process_tree_mib']:.0f} MiB tree / {full['peak_rss_largest_process_mib']:.0f} MiB largest",
                     ">= 5,000 lines/s", _ok(full.get("meets_target"))))
        one = tr["force_one_file"]
        chk = tr["force_one_file_in_process_check"]
        rows.append(("re-vaccinate after a one-file change (--force)",
                     f"{one['wall_s']:.2f} s (in-process check: {len(chk['transformed_files'])} file transformed)",
                     "only that file", _ok(chk.get("only_the_changed_file"))))
        for name, shape in tr.get("shapes", {}).items():
            if isinstance(shape, dict):
                rows.append((f"transpile one file: {name} ({shape['lines']:,} lines)",
                             f"{shape['lines_per_cpu_s']:,.0f} lines per CPU-second ({shape['cpu_s']:.2f} CPU s)",
                             ">= 5,000 lines/CPU-s", _ok(shape.get("meets_target"))))
        patch = tr["patch_one_file"]
        rows.append(("daifu patch after a one-file change", f"{patch['wall_s']:.2f} s ({patch['cli_output']})",
                     "only that file", _ok(patch.get("only_the_changed_file"))))
    for name, e in res("checkpoint").get("sizes", {}).items():
        rows.append((f"checkpoint write at {name} params + Adam, daifu / plain torch.save (both fsync)",
                     _s(e, "write_ratio", "", 3), "<= 1.10", _ok(e.get("meets_target"))))
    imp = res("import")
    if "shim_added_ms" in imp:
        rows.append(("import _daifu_shim, added start-up: wall; CPU",
                     f"{_s(imp, 'shim_added_ms', ' ms', 1)}; {_s(imp, 'shim_added_cpu_ms', ' ms', 1)}", "<= 20 ms",
                     _ok(imp.get("meets_target"))))
        rows.append(("import of a vaccinated module, added start-up: wall; CPU",
                     f"{_s(imp, 'vaccinated_module_added_ms', ' ms', 1)}; {_s(imp, 'vaccinated_module_added_cpu_ms', ' ms', 1)}",
                     "-", "-"))
    for name in ORDER:
        if "error" in res(name):
            rows.append((name, "ERROR: " + " ".join(res(name)["error"].split())[:200], "-", "NO"))
    return rows


def _aa_noise(cpu: dict[str, Any]) -> float | None:
    """How far the A/A control (original against itself) strays from 1: median or min-of-N."""
    control = cpu.get("in_process_control", {}).get("cpu")
    if not control:
        return None
    return max(abs(control["ratio"]["median"] - 1), abs(control["ratio_min_of_n"] - 1))


def derived_cpu_overhead(sections: dict[str, Any]) -> dict[str, float] | None:
    """The CPU loop's overhead composed from exact parts: cells entered per step (counted),
    the measured cost of a ``with`` cell (micro, in-process), the original step time."""
    def res(name: str) -> dict[str, Any]:
        return sections.get(name, {}).get("result", {})

    cells = res("overhead_cpu_instructions").get("cells_entered", {}).get("cells_per_step")
    per_cell = res("overhead_micro").get("cases", {}).get("with_in_loop", {}).get("added_ns_per_cell", {})
    step = res("overhead_cpu").get("in_process", {}).get("cpu", {}).get("original_step_ms", {})
    if cells is None or "median" not in per_cell or "median" not in step:
        return None
    added = cells * per_cell["median"]
    return {"cells_per_step": cells, "ns_per_cell": per_cell["median"], "added_ns": added,
            "step_ms": step["median"], "pct": added / (step["median"] * 1e6) * 100}


def _table(header: list[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(" ".join(str(c).split()).replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def terminal_table(results: dict[str, Any]) -> str:
    return "\n".join(_table(["metric", "figure: median (min..max, n)", "target", "met"], summary_rows(results)))


def _machine_line(section: dict[str, Any]) -> str:
    m = section.get("machine", {})
    gpus = ", ".join(m.get("gpus") or []) or "none"
    git = section.get("git", {})
    commit = f"{git.get('commit', '?')[:10]}{' (dirty)' if git.get('dirty') else ''}" if git else "?"
    return (f"{section.get('date')}; `{section.get('command')}`; {m.get('platform')}; CPU {m.get('cpu_model')} "
            f"({m.get('cores')} cores, {m.get('cores_available')} available); Python {m.get('python')}; "
            f"torch {m.get('torch')}; GPU {gpus}; load average before/after {section.get('loadavg_before')} / "
            f"{section.get('loadavg_after')}; commit {commit}; {section.get('elapsed_s')} s"
            + ("; --quick" if section.get("quick") else ""))


def markdown(results: dict[str, Any]) -> str:
    sections = results.get("sections", {})
    lines = [
        "# daifu performance benchmark",
        "",
        f"Generated by `python -m bench` (bench/); last updated {results.get('updated')}. Every figure is "
        "given as median (min..max, n) unless marked otherwise; ratios are vaccinated/original measured "
        "interleaved side by side, so that a shared, noisy machine moves both sides together. The load "
        "average recorded with each section shows how busy the machine was.",
        "",
        "## Summary",
        "",
        *_table(["metric", "figure", "target", "met"], summary_rows(results)),
        "",
    ]
    for name in ORDER:
        section = sections.get(name)
        if not section:
            continue
        res = section.get("result", {})
        lines += [f"## {name}", "", f"Run: {_machine_line(section)}", ""]
        if "error" in res:
            lines += [f"ERROR: {res['error']}", ""]
            continue
        if "skipped" in res:
            lines += [f"Skipped: {res['skipped']}", ""]
            continue
        lines += _SECTION[name](res)
        lines.append("")
    return "\n".join(lines) + "\n"


def _overhead(res: dict[str, Any]) -> list[str]:
    out = [
        f"Workload: {res.get('workload')}; {res.get('steps')} timed steps after {res.get('warmup_steps')} warm-up "
        f"steps, torch threads {res.get('threads')}; {res.get('pairs')} pairs of fresh processes, interleaved "
        "(order alternating per pair).",
        "",
        *_table(["per-process figure", "original ms", "vaccinated ms", "ratio per pair", "overhead (median)",
                 "ratio of medians"], [
            [f["what"], _s(f, "original_ms", "", 3), _s(f, "vaccinated_ms", "", 3), _s(f, "ratio", "", 4),
             f"{f['overhead_pct_median']:+.2f} %", str(f["ratio_of_medians"])]
            for f in res.get("figures", {}).values()
        ]),
        "",
        f"Same losses and eval losses on both sides: {res.get('same_losses')}.",
    ]
    inproc = res.get("in_process")
    if inproc and "wall" in inproc:
        out += ["", f"In one process (bench/train_inproc.py: both copies imported, alternating `train()` calls of "
                f"{inproc['steps_per_call']} steps, {inproc['reps']} each; same losses: {inproc['same_losses']}):", "",
                *_table(["clock", "original ms/step", "vaccinated ms/step", "ratio per repetition", "ratio min-of-N"], [
                    [k, _s(inproc[k], "original_step_ms", "", 3), _s(inproc[k], "vaccinated_step_ms", "", 3),
                     _s(inproc[k], "ratio", "", 4), str(inproc[k]["ratio_min_of_n"])] for k in ("wall", "cpu")])]
    elif inproc:
        out += ["", f"In one process: {inproc}"]
    control = res.get("in_process_control")
    if control and "wall" in control:
        out += ["", "A/A control, the same harness with the original on both sides (the machine's noise "
                "floor: an A/B ratio inside this spread is not daifu's cost):", "",
                *_table(["clock", "ratio per repetition", "ratio min-of-N"],
                        [[k, _s(control[k], "ratio", "", 4), str(control[k]["ratio_min_of_n"])] for k in ("wall", "cpu")])]
    if res.get("cuda"):
        out += ["", f"CUDA: {res['cuda']}"]
    if "target" in res:
        met = res.get("meets_target", {})
        out += ["", f"Target: {res['target']}; met: "
                + ", ".join(f"{res['figures'][k]['what']}: {_ok(v)}" for k, v in met.items())]
    return out


def _instructions(res: dict[str, Any]) -> list[str]:
    raw = res.get("raw_counts", {})
    rows = [[layout, *(f"{counts.get(k, 0):,}" for k in sorted(counts))] for layout, counts in raw.items()]
    header = ["layout", *sorted(next(iter(raw.values()), {}))]
    per = res.get("instructions_per_step", {})
    return [
        f"Method: {res.get('method')}.",
        "",
        *_table(["program", "instructions per step over the layouts"], [[k, _s(per, k, "", 0)] for k in per]),
        "",
        f"Vaccinated / original, ratio of the means: {res.get('ratio_of_means')} (2 standard errors: "
        f"{res.get('two_standard_errors', 0):.2%}); per layout {_s(res, 'ratio_per_layout', '', 5)}; added instructions "
        f"per step (difference of the means): {res.get('added_instructions_per_step_mean'):+,}. The original's count "
        f"per step differs by {res.get('layout_spread_original_pct')} % between layouts, the vaccinated copy's by "
        f"{res.get('layout_spread_vaccinated_pct')} %: that is the allocator, not daifu.",
        "",
        "Whole-process counts:",
        "",
        *_table(header, rows),
        "",
        f"Cells the vaccinated loop enters per step (sys.setprofile, {res.get('cells_entered', {}).get('runs')}): "
        f"{res.get('cells_entered', {}).get('by_cell')}.",
    ]


def _signal_handlers(res: dict[str, Any]) -> list[str]:
    raw = res.get("raw_counts", {})
    columns = sorted({k for counts in raw.values() for k in counts})
    rows = [[layout, *(f"{counts[k]:,}" if k in counts else "" for k in columns)] for layout, counts in raw.items()]
    per = res.get("instructions_per_step", {})

    def pair(label: str, fig: dict[str, Any]) -> list[str]:
        return [label, f"{fig['ratio_of_means']:.7f}", f"{fig['two_standard_errors']:.5%}",
                ", ".join(f"{r:.7f}" for r in fig["ratio_per_layout"]), f"{fig['added_instructions_per_step']:+,}"]

    return [
        f"Method: {res.get('method')}.",
        "",
        f"SIGUSR1's handler as each program left it: {res.get('sigusr1_handler')}.",
        "",
        *_table(["program", "instructions per step over the layouts"], [[k, _s(per, k, "", 0)] for k in per]),
        "",
        *_table(["pair", "ratio of the means", "2 standard errors", "ratio per layout", "added instructions per step"], [
            pair("A/B: handlers installed / not installed", res["a_b_handlers_over_none"]),
            pair("A/A: handlers installed, the same run again / first", res["a_a_run_again"]),
            pair("layout A/A: handlers installed, folder name 1 character longer / same", res["layout_a_a_longer_folder"]),
        ]),
        "",
        f"Target: {res.get('target')}; met: {_ok(res.get('meets_target'))}. Inside the noise of the same run "
        f"again: {_ok(res.get('inside_rerun_a_a'))}; the A/B's 2-standard-error interval holds 1: "
        f"{_ok(res.get('ab_interval_holds_1'))}. Load average when the counts were done: {res.get('loadavg_during')}.",
        "",
        "Whole-process counts:",
        "",
        *_table(["layout", *columns], rows),
    ]


def _micro(res: dict[str, Any]) -> list[str]:
    rows = []
    for name, c in res.get("cases", {}).items():
        rows.append([
            f"`{name}`: {c.get('what')}", str(c["cells_per_iteration"]), f"{c['iterations']:,}",
            f"{c['original_ns_per_iter']['median']:.1f}", f"{c['vaccinated_ns_per_iter']['median']:.1f}",
            _s(c, "ratio", "", 3), f"{c['ratio_min_of_n']:.3f}", _s(c, "added_ns_per_iter", "", 1),
            _s(c, "added_ns_per_cell", "", 1) if c.get("added_ns_per_cell") else "-",
        ])
    out = [
        f"Method: {res.get('method')} (Python {res.get('python')}).",
        "",
        *_table(["case", "cells/iter", "iterations", "original ns/iter", "vaccinated ns/iter",
                 "ratio", "ratio min-of-N", "added ns/iter", "added ns/cell"], rows),
    ]
    for name, prof in (res.get("profiles") or {}).items():
        out += ["", f"cProfile of the vaccinated `{name}` (top own time):", "",
                *_table(["function", "calls", "own s", "cumulative s"],
                        [[p["function"], str(p["calls"]), str(p["tottime_s"]), str(p["cumtime_s"])] for p in prof[:8]])]
    return out


def _restore(res: dict[str, Any]) -> list[str]:
    rows = []
    for key, e in res.get("configs", {}).items():
        lat = e.get("latency_ms", {})
        rows.append([
            key, str(e.get("trials")), f"{lat.get('median', float('nan')):.1f}", f"{lat.get('p95', float('nan')):.1f}",
            f"{lat.get('min', float('nan')):.1f}..{lat.get('max', float('nan')):.1f}",
            _s(e, "runtime_reported_ms", " ms", 1),
            _s(e, "patch_command_ms", " ms", 0) if e.get("patch_command_ms") else "-",
            str(len(e.get("failures", []))), _ok(e.get("meets_target")),
        ])
    out = [
        f"Method: {res.get('method')}",
        "",
        *_table(["fix / watcher", "trials", "median ms", "p95 ms", "min..max ms",
                 "runtime's own figure (detection to resume)", "`daifu patch` command", "failed", "target met"], rows),
    ]
    for key, e in res.get("configs", {}).items():
        for failure in e.get("failures", [])[:3]:
            out.append(f"- failure in {key}: {failure}")
    return out


def _transpile(res: dict[str, Any]) -> list[str]:
    if "full" not in res:
        return [str(res)]
    p, full = res["project"], res["full"]
    split = res["pass_split"]
    out = [
        f"Project: {p['files']} files, {p['lines']:,} lines (`{p['generator']}`).",
        "",
        *_table(["figure", "value"], [
            ["`daifu vaccinate` wall time (fresh output, all cores)", f"{full['wall_s']:.2f} s"],
            ["throughput", f"{full['lines_per_s']:,.0f} lines/s (target >= 5,000: {_ok(full['meets_target'])}"
                           + ("" if full["meets_target"] else f", missed by {5000 / full['lines_per_s']:.1f}x") + ")"],
            ["CPU time (user + system, all processes)", f"{full['cpu_s']:.1f} s"],
            ["throughput per CPU-second (all processes)", f"{full['lines_per_cpu_s']:,.0f} lines/s"],
            ["peak RSS, whole process tree (sampled every 20 ms)", f"{full['peak_rss_process_tree_mib']:.0f} MiB"],
            ["peak RSS, largest process (ru_maxrss)", f"{full['peak_rss_largest_process_mib']:.0f} MiB"],
            ["CLI summary", full["cli_summary"]],
            ["`--force`, nothing changed", f"{res['force_unchanged']['wall_s']:.2f} s"],
            [f"`--force` after changing {res['force_one_file']['changed_file']}", f"{res['force_one_file']['wall_s']:.2f} s"],
            ["in-process `--force` after a one-file change: files transformed",
             f"{res['force_one_file_in_process_check']['transformed_files']} of "
             f"{res['force_one_file_in_process_check']['python_files']} ({res['force_one_file_in_process_check']['wall_s']:.2f} s)"],
            [f"`daifu patch` after changing {res['patch_one_file']['changed_file']}",
             f"{res['patch_one_file']['wall_s']:.2f} s ({res['patch_one_file']['cli_output']})"],
        ]),
        "",
        *([] if full["meets_target"] else [
            "Why the target is missed: the transform itself (analysis, emitting, verifying the output by "
            "reading it back, and black on the generated lines) costs about "
            f"{1000 / max(full['lines_per_cpu_s'], 1):.2f} ms of CPU per source line, and two cores give at "
            f"most {2 * full['lines_per_cpu_s']:,.0f} lines/s; the passes' shares below say where it goes.", ""]),
        f"Time per pass ({split['how']}: {split['files']} files, {split['lines']:,} lines, "
        f"{split['wall_s']:.1f} s wall, {split.get('cpu_s', float('nan')):.1f} s CPU: "
        f"{split['lines_per_s_one_core']:,.0f} lines/s, {split.get('lines_per_cpu_s_one_core', float('nan')):,.0f} "
        "lines per CPU-second on one core; the pipeline's timings are wall-clock):",
        "",
        *_table(["pass", "seconds (wall)", "share of wall time", "CPU seconds (share x CPU time)"],
                [[k, f"{v:.2f}", f"{split['share_pct'][k]:.1f} %",
                  f"{split.get('cpu_s_by_pass_estimate', {}).get(k, float('nan')):.2f}"]
                 for k, v in split["seconds"].items()]),
    ]
    shaped = {k: v for k, v in res.get("shapes", {}).items() if isinstance(v, dict)}
    if shaped:
        out += ["", f"Files of extreme shape ({res['shapes']['how']}; at a quarter of the size too: "
                "a CPU ratio near the lines ratio means linear):", "",
                *_table(["shape", "lines", "functions vaccinated", "CPU s", "lines per CPU-second",
                         "CPU ratio / lines ratio vs a quarter", "target >= 5,000"],
                        [[k, f"{v['lines']:,}", str(v["functions"]), f"{v['cpu_s']:.2f}", f"{v['lines_per_cpu_s']:,.0f}",
                          f"{v['cpu_ratio_for_lines_ratio'][0]:.2f} / {v['cpu_ratio_for_lines_ratio'][1]:.2f}",
                          _ok(v["meets_target"])] for k, v in shaped.items()])]
    prof = res.get("profile", {})
    if prof:
        out += ["", f"Profile ({prof['how']}: {prof['lines']:,} lines, {prof['wall_s_under_profiler']:.1f} s under "
                f"cProfile; full text in {prof['full_text']}). Own time by module:", "",
                *_table(["module", "share of own time"], [[k, f"{v:.1f} %"] for k, v in prof["own_time_by_module_pct"].items()]),
                "", "Top functions by own time:", "",
                *_table(["function", "calls", "own s", "cumulative s"],
                        [[r["function"], str(r["calls"]), str(r["tottime_s"]), str(r["cumtime_s"])] for r in prof["top_tottime"][:15]]),
                "", "Top functions by cumulative time:", "",
                *_table(["function", "calls", "own s", "cumulative s"],
                        [[r["function"], str(r["calls"]), str(r["tottime_s"]), str(r["cumtime_s"])] for r in prof["top_cumtime"][:15]])]
    return out


def _import(res: dict[str, Any]) -> list[str]:
    out = [
        f"Method: {res.get('method')} {res.get('rounds')} rounds.",
        "",
        *_table(["figure", "median (min..max, n)"], [
            ["`python -c pass`", _s(res["wall_ms"], "pass", " ms", 1)],
            ["`python -c 'import _daifu_shim'`", _s(res["wall_ms"], "shim", " ms", 1)],
            ["`import tiny`, original", _s(res["wall_ms"], "orig_module", " ms", 1)],
            ["`import tiny`, vaccinated", _s(res["wall_ms"], "vax_module", " ms", 1)],
            ["CPU time of `python -c pass`", _s(res["cpu_ms"], "pass", " ms", 1)],
            ["CPU time of `import _daifu_shim`", _s(res["cpu_ms"], "shim", " ms", 1)],
            ["shim: added wall time (per-round difference)", _s(res, "shim_added_ms", " ms", 1)],
            ["shim: added CPU time (per-round difference)", _s(res, "shim_added_cpu_ms", " ms", 1)],
            ["vaccinated module: added wall time (per-round difference)", _s(res, "vaccinated_module_added_ms", " ms", 1)],
            ["vaccinated module: added CPU time (per-round difference)", _s(res, "vaccinated_module_added_cpu_ms", " ms", 1)],
            ["`-X importtime`: `_daifu_shim` cumulative", _s(res["importtime_shim"], "cumulative_ms", " ms", 2)],
            ["`-X importtime`: vaccinated `tiny` cumulative", _s(res["importtime_vaccinated_module"], "cumulative_ms", " ms", 2)],
            ["`-X importtime`: original `tiny` cumulative", _s(res["importtime_original_module"], "cumulative_ms", " ms", 2)],
        ]),
        "",
        "Largest parts (own time, `-X importtime`, median) of importing a vaccinated module: "
        + ", ".join(f"{p['module']} {p['self_ms']:.2f} ms" for p in res["importtime_vaccinated_module"]["largest_self_ms"]),
        "",
        f"Target: {res.get('target')}; met: {_ok(res.get('meets_target'))}",
    ]
    return out


def _med(d: dict[str, Any], key: str, scale: float = 1.0, digits: int = 2) -> str:
    return fmt_spread(d.get(key, {}), "", digits, scale)


def _checkpoint(res: dict[str, Any]) -> list[str]:
    rows = []
    for name, e in res.get("sizes", {}).items():
        rows.append([
            f"{name} ({e['plain_bytes'] / 1e6:,.0f} MB plain, {e['daifu_bytes'] / 1e6:,.0f} MB daifu)",
            _med(e, "plain_save_s"), _med(e, "daifu_write_s"), _med(e, "write_ratio", digits=3),
            _med(e, "plain_load_s"), f"{_med(e, 'verify_s')} + {_med(e, 'load_s')}",
            _med(e, "original_first_step_s"), _med(e, "resume_failing_statement_s"),
            _med(e, "resume_env_failing_statement_s") if e.get("resume_env_failing_statement_s") else "-",
            _med(e, "sigusr1_held_s", digits=3), _med(e, "sigusr1_background_write_s"),
            f"{_med(e, 'step_before_s')} / {_med(e, 'step_during_write_s')}",
        ])
    return [
        f"Method: {res.get('method')}",
        "",
        "Seconds, median (min..max, n):",
        "",
        *_table(["state", "plain torch.save + fsync", "daifu's payload write", "ratio", "plain torch.load",
                 "daifu verify + load", "original: start to first step", "`daifu resume` to the failing statement",
                 "DAIFU_RESUME to the failing statement", "SIGUSR1: program held", "SIGUSR1: background write",
                 "step time before / during the write"], rows),
    ]


_SECTION = {
    "checkpoint": _checkpoint,
    "overhead_cpu": _overhead,
    "overhead_gpu": _overhead,
    "overhead_gpu_dry_run": _overhead,
    "overhead_micro": _micro,
    "overhead_cpu_instructions": _instructions,
    "overhead_signal_handlers": _signal_handlers,
    "restore": _restore,
    "transpile": _transpile,
    "import": _import,
}
