"""crashbench's harness: the arithmetic on recorded timestamps, case loading, the CLI's
selection, the report; one real end-to-end run of the example case (slow)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import pytest
from conftest import requires_torch

from crashbench import __main__ as cli
from crashbench import harness, report, strategies, timing
from crashbench.case import SCENARIOS, all_cases, load

EXAMPLE = Path(__file__).resolve().parent.parent / "crashbench" / "cases" / "api_misuse_cnn"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# Recorded from a real in-situ run of api_misuse_cnn (journal and state file times).
JOURNAL = [
    {"ts": 1795384705.151762, "event": "crash", "exception": "RuntimeError"},
    {"ts": 1795384705.93, "event": "patch", "ok": True},
    {"ts": 1795384705.949938, "event": "resume", "restore_ms": 28.29},
]
STDERR = [
    "CB step 0 1795384683.000000",
    "CB step 1 1795384683.010000",
    "CB restored step 190 1795384695.000000",
    "CB step 190 1795384695.100000",
    "CB step 199 1795384697.125983",
    "CB saved 1 0.002349",
    "daifu: something else",
]


def test_every_case_loads_and_its_fix_applies(tmp_path: Path) -> None:
    cases = all_cases()
    assert any(c.id == "api_misuse_cnn" for c in cases)
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        assert case.scenario in SCENARIOS
        assert 0 <= case.crash_step < case.steps, case.id
        assert case.recovery in ("fix", "automatic"), case.id
        assert (case.folder / case.entry).is_file(), case.id
        if case.recovery == "fix":
            assert case.edits, f"{case.id}: a fix case needs edits"
            case.materialize(tmp_path / case.id, fixed=True)  # raises if an edit does not apply
            assert (tmp_path / case.id / "cb_support.py").is_file()
        if case.snippet:
            assert case.snippet_text


def test_new_case_fields_default_compatibly() -> None:
    case = load(EXAMPLE)
    assert case.equal_result is True and case.equal_result_reason == ""
    assert case.marker is None


def test_fire_once_marker_of_automatic_cases(tmp_path: Path) -> None:
    case = load(EXAMPLE)
    assert strategies.marker_path(case, tmp_path) is None
    automatic = dataclasses.replace(case, recovery="automatic", entry="sub/train.py")
    assert strategies.marker_path(automatic, tmp_path) == tmp_path / "sub" / ".fault_fired"
    strategies.set_marker(automatic, tmp_path, present=True)
    assert (tmp_path / "sub" / ".fault_fired").exists()
    strategies.set_marker(automatic, tmp_path, present=False)
    assert not (tmp_path / "sub" / ".fault_fired").exists()
    named = dataclasses.replace(automatic, marker="state/once")
    assert strategies.marker_path(named, tmp_path) == tmp_path / "state" / "once"


def test_restore_time_of_recorded_in_situ_run() -> None:
    t_ready, t_fix_done = 1795384705.1531072, 1795384705.785192
    restore, resume = timing.in_situ_restore(JOURNAL, t_ready, t_fix_done)  # type: ignore[misc]
    assert resume["restore_ms"] == 28.29
    assert restore.until_ready == pytest.approx(0.0013452, abs=1e-6)
    assert restore.after_fix == pytest.approx(0.164746, abs=1e-6)
    assert restore.seconds == pytest.approx(0.1660912, abs=1e-6)
    # the harness's reaction (t_ready .. t_fix_done) is not part of it
    assert restore.seconds < JOURNAL[2]["ts"] - JOURNAL[0]["ts"]


def test_in_situ_restore_time_leaves_out_the_checkpoints_written_at_the_crash() -> None:
    """The JIT checkpoint that shares the process checkpoint's payload is one write, not two."""
    events = [
        {"ts": 100.0, "event": "crash"},
        {"ts": 100.9, "event": "process-checkpoint", "ms": 800.0},
        {"ts": 100.9, "event": "jit-checkpoint", "ms": 800.0, "shared_with": "x.json"},
        {"ts": 101.0, "event": "resume"},
    ]
    restore, _ = timing.in_situ_restore(events, 100.95, 100.96)  # type: ignore[misc]
    assert restore.checkpoint_s == pytest.approx(0.8)
    assert restore.until_ready == pytest.approx(0.15)
    alone = [*events[:2], {**events[2], "shared_with": None}, events[3]]
    restore, _ = timing.in_situ_restore(alone, 102.0, 102.0)  # type: ignore[misc]
    assert restore.checkpoint_s == pytest.approx(1.6)


def test_restore_time_never_counts_a_resume_before_the_fix_as_negative() -> None:
    restore = timing.Restore(t_crash=10.0, t_ready=10.002, t_fix_done=12.0, t_back=11.9)
    assert restore.after_fix == 0.0
    assert restore.seconds == pytest.approx(0.002)
    assert restore.as_dict()["after_fix_raw_s"] == pytest.approx(-0.1)


def test_restore_time_of_automatic_recovery_spans_all_retries() -> None:
    events = [
        {"ts": 100.0, "event": "crash"}, {"ts": 100.1, "event": "policy"}, {"ts": 100.2, "event": "resume"},
        {"ts": 100.3, "event": "crash"}, {"ts": 100.5, "event": "resume"},
    ]
    restore, _ = timing.in_situ_restore(events, None, None)  # type: ignore[misc]
    assert (restore.t_crash, restore.t_ready, restore.t_fix_done) == (100.0, 100.0, 100.0)
    assert restore.seconds == pytest.approx(0.5)
    assert timing.in_situ_restore([{"ts": 1.0, "event": "crash"}], 1.0, 2.0) is None


def test_restore_time_of_a_baseline_uses_the_rerun_mark_of_the_crashed_step() -> None:
    restore = timing.baseline_restore(1795384694.2878535, 1795384694.28983, STDERR, 199)
    assert restore is not None
    assert restore.until_ready == 0.0
    assert restore.seconds == pytest.approx(1795384697.125983 - 1795384694.28983)
    assert timing.baseline_restore(1.0, 1.0, STDERR, 250) is None


def test_a_rerun_restored_past_the_crashed_step_is_back_at_its_first_later_step() -> None:
    """The crash came between marks (a DataLoader worker failed the batch after step 188's
    mark) and the last checkpoint was written at the end of step 188: the rerun restores at
    190 (the STDERR record) and never marks 188 again; it is back at its first later step."""
    restore = timing.baseline_restore(1795384694.0, 1795384694.0, STDERR, 188)
    assert restore is not None
    assert restore.seconds == pytest.approx(1795384695.1 - 1795384694.0)


def test_marks_and_lines_are_parsed() -> None:
    assert timing.steps(STDERR)[:2] == [(0, 1795384683.0), (1, 1795384683.01)]
    assert timing.restored_step(STDERR) == 190
    assert timing.save_durations(STDERR) == [0.002349]
    assert timing.final_line(["x", "final: a=1", "final: a=2"]) == "final: a=2"
    assert timing.final_line(["nothing"]) is None
    assert timing.iteration_time([(0, 1.0), (1, 1.5), (2, 2.0)]) == pytest.approx(0.5)
    assert timing.loop_time([(0, 1.0)], 3.5) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("t_i", "t_c", "every"),
    [(0.02, 0.002, 3), (0.006, 0.002, 10), (0.01, 0.0001, 1), (0.001, 0.1, 2858), (0.0, 0.1, 1)],
)
def test_checkfreq_frequency(t_i: float, t_c: float, every: int) -> None:
    assert timing.checkpoint_every(t_i, t_c) == every
    if t_i > 0 and every > 1:  # the cost stays at or under the 3.5 % budget
        assert t_c / (every * t_i) <= timing.CHECKPOINT_BUDGET + 1e-12


def test_spread_and_ratio() -> None:
    assert timing.spread([3.0, None, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert timing.spread([None, math.nan]) is None
    assert timing.ratio(4.0, 0.5) == 8.0
    assert timing.ratio(4.0, 0.0) is None


def test_quick_picks_one_cpu_case_per_scenario() -> None:
    picked = cli.quick_cases(all_cases())
    assert len({c.scenario for c in picked}) == len(picked)
    assert not any(c.gpu for c in picked)
    args = cli.parse(["--quick"])
    assert cli.reps(args) == dict.fromkeys(cli.DEFAULT_REPS, 1)
    assert cli.reps(cli.parse(["--reps", "4"]))["insitu"] == 4
    assert cli.parse(["--strategies", "insitu,restart"]).strategies == ["restart", "insitu"]
    with pytest.raises(SystemExit):
        cli.parse(["--strategies", "nope"])


def test_proc_times_lines_and_exit_and_counts_cpu(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "sys.stderr.write(f'CB step 0 {time.time():.6f}\\n'); sys.stderr.flush()\n"
        "sum(range(200000))\n"
        "print('final: x=1', flush=True)\n"
        "sys.exit(3)\n"
    )
    proc = harness.Proc([sys.executable, "-c", script], tmp_path, dict(os.environ), tmp_path / "logs" / "run")
    assert proc.wait(60)
    assert proc.returncode == 3
    assert proc.out_lines() == ["final: x=1"]
    assert proc.exit_time is not None and proc.cpu_s is not None and proc.cpu_s > 0
    (step, when), = timing.steps(proc.err_lines())
    arrival = proc.final_arrival()
    assert step == 0 and arrival is not None and when <= arrival <= proc.exit_time
    assert (tmp_path / "logs" / "run.stdout").read_text() == "final: x=1\n"


def test_probe_script_compiles() -> None:
    compile(strategies.PROBE, "_cb_probe.py", "exec")
    assert f">= {strategies.PROBE_SAVES}:" in strategies.PROBE


def _recorded_results() -> dict:
    run = {"recovered": True, "equal": True, "restore_s": 0.166, "total_s": 2.4, "error": None}
    strategy = {
        "runs": [run], "n": 1, "recovered": 1, "equal": True,
        "restore_s": {"median": 0.166, "min": 0.166, "max": 0.166, "n": 1},
        "total_s": None, "restore_ms_daifu": None,
    }
    slow = {**strategy, "restore_s": {"median": 5.04, "min": 5.04, "max": 5.04, "n": 1}}
    case = {
        "id": "api_misuse_cnn", "scenario": "api-misuse", "crash_point": "middle", "crash_step": 199, "steps": 400,
        "calibration": {"every": 10, "loop_s": 2.5, "t_iteration": 0.006},
        "strategies": {"restart": slow, "checkpoint": {**slow, "restore_s": {"median": 2.8, "min": 2.8, "max": 2.8, "n": 1}},
                       "daifu-resume": {**slow, "restore_s": {"median": 1.7, "min": 1.7, "max": 1.7, "n": 1},
                                        "checkpoint_bytes": {"median": 70131.0, "min": 70131.0, "max": 70131.0, "n": 1},
                                        "checkpoint_write_s": {"median": 0.0022, "min": 0.0022, "max": 0.0022, "n": 1},
                                        "lost_steps": {"median": 0.0, "min": 0.0, "max": 0.0, "n": 1}},
                       "insitu": strategy},
        "overhead": {"ratio": {"vaccinated": {"median": 1.01, "min": 0.98, "max": 1.03, "n": 3}, "checkpoint": None}, "errors": []},
        "ratios": cli.case_ratios({"restart": slow, "insitu": strategy}),
    }
    library = {**case, "id": "lightning_hook", "strategies": {"insitu": strategy},
               "no_process_checkpoint": "no process checkpoint at this crash: called through library code that would start over (x)"}
    skipped = {"id": "gpu_case", "scenario": "device-oom", "crash_point": "late", "crash_step": 9, "steps": 10,
               "skipped": "needs a GPU", "strategies": {}}
    results = {
        "command": "python -m crashbench", "date": "today", "elapsed_s": 60.0,
        "machine": {"platform": "test", "cpu_count": 2, "python": "3", "torch": "2", "gpu": None},
        "settings": {"strategies": list(cli.STRATEGIES), "repetitions": cli.DEFAULT_REPS},
        "cases": [case, library, skipped],
    }
    results["summary"] = report.summary(results["cases"], list(cli.STRATEGIES))
    return results


def test_report_from_recorded_results(tmp_path: Path) -> None:
    results = _recorded_results()
    summary = results["summary"]
    assert summary["recovered"]["insitu"] == {"cases": 2, "of": 2}
    assert summary["restore_ratio"]["restart"]["median"] == pytest.approx(5.04 / 0.166)
    assert summary["skipped"] == 1
    text = report.write(results, tmp_path)
    assert summary["recovered"]["daifu-resume"] == {"cases": 1, "of": 1}  # the library case has none to restart from
    assert "| api_misuse_cnn | api-misuse | middle (step 199/400) | 1/1 · 1/1 · 1/1 · 1/1 |" in text
    assert "| 1.70 s (0.1 MB written in 2.2 ms; 0 steps lost) |" in text
    assert "| n/a: no process checkpoint at this crash: called through library code that would start over |" in text
    assert "- lightning_hook: no restart from daifu's checkpoint: no process checkpoint at this crash" in text
    assert "30×" in text and "×1.010" in text and "needs a GPU" in text
    assert "restore = (t_ready - t_crash)" in text
    assert json.loads((tmp_path / "results.json").read_text())["cases"][0]["id"] == "api_misuse_cnn"
    assert report.failures(results["cases"]) == []


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib")
def test_plots_from_recorded_results(tmp_path: Path) -> None:
    from crashbench import plots

    plots.write(_recorded_results(), tmp_path)
    for name in ("restore_times.png", "overhead.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


@requires_torch
@pytest.mark.slow
def test_probe_times_the_cases_own_checkpoint_saves(tmp_path: Path) -> None:
    saves = strategies.probe_saves(load(EXAMPLE), tmp_path, timeout=240)
    assert len(saves) == strategies.PROBE_SAVES
    assert all(0 < s < 5 for s in saves)


@requires_torch
@pytest.mark.slow
@pytest.mark.timeout(900)  # about 40 s on an idle 2-core machine, minutes on a busy one
def test_end_to_end_quick_run_of_the_example_case(tmp_path: Path) -> None:
    code = cli.main(["--quick", "--case", "api_misuse_cnn", "--out", str(tmp_path), "--no-plots"])
    results = json.loads((tmp_path / "results.json").read_text())
    case = results["cases"][0]
    assert code == 0, report.failures(results["cases"])
    assert set(case["strategies"]) == {"restart", "checkpoint", "daifu-resume", "insitu"}
    for name, result in case["strategies"].items():
        assert result["recovered"] == result["n"] == 1, name
        assert result["equal"], name
    insitu = case["strategies"]["insitu"]["runs"][0]
    assert insitu["journal"][:1] == ["crash"] and "resume" in insitu["journal"]
    assert case["calibration"]["every"] >= 1
    assert case["strategies"]["checkpoint"]["runs"][0]["restored_step"] is not None
    # in-situ skips the replay of ~200 steps and the process start-up
    assert case["ratios"]["restart"] > 3
    # daifu's checkpoint: no step done again, only the new process's start-up
    resumed = case["strategies"]["daifu-resume"]["runs"][0]
    assert resumed["lost_steps"] == 0 and resumed["checkpoint_bytes"] > 0 and resumed["checkpoint_write_s"] > 0
    assert case["strategies"]["restart"]["runs"][0]["lost_steps"] == resumed["crash_step"] == 199
    assert case["overhead"]["ratio"]["vaccinated"]["n"] == 1
    assert "| api_misuse_cnn |" in (tmp_path / "results.md").read_text()
