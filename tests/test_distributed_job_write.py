"""A survivor of a lost rank killed (or told to stop) while it writes its part of the job's
checkpoint: the restarted attempt never loads a partial checkpoint. It uses what is whole (the
replica's, for a survivor whose own part was cut short), or starts over where the replica's
was cut short, and says which. Real torchrun (--max-restarts=1), real signals: the survivor
sends itself SIGKILL or SIGTERM at a phase inside the write (``DAIFU_TEST_JOB_WRITE_FAULT``,
as crashbench's ranks kill themselves at a phase), while rank 1 is killed with kill -9.

Every subprocess runs under a timeout; every wait of the test has a bound.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run
from test_distributed_lost_rank import PROGRAM, STEP, lose_a_rank, uninterrupted
from test_distributed_start_over import SELF_KILLED, assert_started_over, run_to_the_end

pytestmark = [pytest.mark.slow, requires_torch]


@pytest.mark.parametrize("phase", ["description", "job-file"])
def test_the_replica_killed_while_writing_leaves_no_checkpoint_and_the_restart_starts_over(tmp_path: Path, phase: str) -> None:
    """2 ranks: rank 1 is lost, rank 0 (the replica) is SIGKILLed after its payload is written
    but before the ``.json`` that names it (*description*), or with its part whole but before
    ``job.json`` (*job-file*). No job.json: the restarted ranks start over, saying that the
    checkpoint was never completed."""
    run = Run(tmp_path, {"main.py": SELF_KILLED}, env={"KILL_AT": "loop", "DAIFU_TEST_JOB_WRITE_FAULT": phase})
    status, lines, cut, err = run_to_the_end(run, tmp_path)
    assert f"rank 0 sends itself SIGKILL while writing its job checkpoint ({phase})" in err
    job = next((run.out / ".daifu" / "job").glob("*/attempt-0"))
    assert not (job / "job.json").exists()
    assert (job / "rank-0.json").exists() == (phase == "job-file")
    assert_started_over(run, tmp_path, status, lines, cut, err, r"attempt 0: its job checkpoint was never completed \(no job.json")


def test_a_survivor_killed_while_writing_its_part_is_rebuilt_from_the_replica(tmp_path: Path) -> None:
    """3 ranks: rank 1 is lost; of the two survivors, rank 2 is SIGKILLed with its payload
    written and its ``.json`` not. The replica's part and ``job.json`` are whole: rank 2 is
    rebuilt from the replica like rank 1 (its partial checkpoint is never loaded), and the
    job's losses and weights are the uninterrupted run's bit for bit."""
    run = Run(tmp_path, {"main.py": PROGRAM}, env={"DAIFU_TEST_JOB_WRITE_FAULT": "description", "DAIFU_TEST_JOB_WRITE_RANKS": "2"})
    done, err, cut, *_, back = lose_a_rank(run, tmp_path, 3, "5", 1)
    assert back is not None, f"the restarted job failed: {err[-4000:]}"
    assert "rank 2 sends itself SIGKILL while writing its job checkpoint (description)" in err
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    steps = saved[0]["decision"]["steps"]
    assert saved[0]["decision"]["own"] == [0, 2]
    assert re.search("rank 0 resumes from the job checkpoint of attempt 0 .*; its own state\\)", err)
    for rank in (1, 2):
        assert re.search(f"rank {rank} resumes from the job checkpoint of attempt 0 .*; rebuilt from rank 0's replica\\)", err), err[-4000:]
    assert "rank 2's own part is missing (rank-2.json): rebuilt from the replica instead" in err
    expected = uninterrupted(run.src, 3)
    assert sorted({line for line in done if STEP.match(line) or " final " in line}) == sorted(expected)
    assert min(int(m.group(2)) for m in map(STEP.match, done[cut:]) if m) == steps


def test_sigterm_while_writing_lets_the_write_finish(tmp_path: Path) -> None:
    """The agent's SIGTERM (here sent by the survivor to itself before its payload is written)
    does not cut the write short: daifu's handler only asks for a checkpoint at the next
    statement boundary. The part and job.json are whole, and every rank resumes from them."""
    run = Run(tmp_path, {"main.py": PROGRAM}, env={"DAIFU_TEST_JOB_WRITE_FAULT": "payload:TERM"})
    done, err, _, *_, back = lose_a_rank(run, tmp_path, 2, "5", 1)
    assert back is not None, f"the restarted job failed: {err[-4000:]}"
    assert "rank 0 sends itself SIGTERM while writing its job checkpoint (payload)" in err
    saved = [e for e in run.events() if e["event"] == "job-checkpoint"]
    assert len(saved) == 1 and saved[0]["saved"], saved
    for rank in (0, 1):
        assert f"rank {rank} resumes from the job checkpoint of attempt 0" in err
    expected = uninterrupted(run.src, 2)
    assert sorted({line for line in done if STEP.match(line) or " final " in line}) == sorted(expected)
