"""crashbench's distributed cases with real processes: one case, the daifu strategy, under a
real torchrun (2 gloo ranks). Checks that the figures are there and sane, not just present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import requires_torch

from crashbench import distributed
from crashbench.distributed_jobs import gone

pytestmark = [pytest.mark.slow, requires_torch]


def test_a_bug_on_one_rank_under_daifu_is_measured(tmp_path: Path) -> None:
    case = next(c for c in distributed.CASES if c.id == "bug_one_rank")
    ref = distributed.reference(tmp_path / "work", zero=False)
    assert sorted(ref) == [0, 1] and ref[0] == ref[1]  # DDP keeps the replicas equal
    result = distributed.run_strategy(case, "daifu", tmp_path / "work" / "daifu", ref)
    assert result["recovered"], result
    assert result["attempts"] == 1 and result["lost_steps"] == 0  # in situ, no restart
    assert result["crashed_ranks"] == [1]
    # bounded and ordered: daifu saw the crash, then the other rank paused, then training went on
    assert 0 <= result["detection_s"] < 2.0
    assert 0 <= result["pause_propagation_s"] < 2.0
    assert result["fix_done_s"] < result["time_back_s"] < 60
    assert result["checkpoint_ms"]["n"] >= 1 and result["checkpoint_ms"]["median"] > 0
    assert result["detected_by"].startswith("daifu's crash event (rank 1)")
    assert len(result["worker_pids"]) == 2 and all(gone(pid) for pid in result["worker_pids"])  # none left


def test_the_report_has_a_row_per_case_and_strategy(tmp_path: Path) -> None:
    """The writer, from a result as run_case builds it (no processes)."""
    runs = [{"recovered": False, "why_not": "torchrun exited 1", "note": "", "detection_s": 1.5,
             "time_back_s": None, "lost_steps": None}]
    results = {
        "command": "python -m crashbench.distributed --quick",
        "machine": {"platform": "linux", "cpu_count": 2, "torch": "2.13", "loadavg_start": (1.0, 1.0, 1.0),
                    "loadavg_end": (2.0, 2.0, 2.0)},
        "date": "today", "elapsed_s": 60.0,
        "settings": {"ranks": 2, "backend": "gloo", "steps": 20, "checkpoint_every": 5, "max_restarts": 1,
                     "monitor_interval_s": 5},
        "cases": [{"id": "kill_x", "title": "a kill", "strategies": {
            "restart": {"runs": runs, **distributed.summary(runs)},
            "daifu": {"not_applicable": "why not"},
        }}],
    }
    text = distributed.distributed_report.write(results, tmp_path)
    assert "| kill_x | restart | 0/1 | 1.50 s |" in text and "torchrun exited 1" in text
    assert "| kill_x | daifu | n/a |" in text and "why not" in text
    assert json.loads((tmp_path / "distributed.json").read_text())["cases"][0]["id"] == "kill_x"


def test_lost_steps_and_time_back_from_marks() -> None:
    """Rank 1 killed in step 3 after rank 0 finished it; the restart loads step 2 (no processes)."""
    from crashbench.distributed_jobs import Mark
    from crashbench.distributed_metrics import lost_steps, time_back

    def done(ts: float, attempt: int, rank: int, step: int) -> Mark:
        return Mark(ts, attempt, rank, 100 * attempt + rank, "done", step, "-")

    marks = [done(1.0 + s, 0, r, s) for s in range(3) for r in (0, 1)] + [done(3.5, 0, 0, 3)]
    marks += [Mark(3.6, 0, 1, 1, "fault", 3, "during")]
    marks += [done(9.0, 1, 0, 2), done(9.2, 1, 1, 2), done(10.0, 1, 0, 3), done(10.1, 1, 1, 3)]
    assert lost_steps(marks, 3.6) == 2  # rank 0 redoes steps 2 and 3, rank 1 only step 2
    assert abs(time_back(marks, 3.6) - (9.2 - 3.6)) < 1e-9  # the slower rank's first step
    assert time_back(marks[:-4], 3.6) is None  # never back
