"""A rank inside a collective when another rank crashes, under a real torchrun (2 gloo ranks,
CPU): its all-reduce times out while the other rank waits for a fix, and that is not a
failure. It holds; after the fix (given well after the timeout) every rank re-creates the
process group, the timed-out rank re-runs its gradient all-reduce, the crashed rank resumes at
its failing statement, and the job ends with the results of the fixed job run from scratch.

Every subprocess runs under a timeout; every wait of the test has a bound.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run, gloo_aborted_at_shutdown
from test_distributed_pause import (
    ONE_RANK_BUG,
    SLOW_AGENT,
    TORCHRUN,
    end_job,
    finished,
    reference,
    start_job,
    wait_for_states,
)

pytestmark = [pytest.mark.slow, requires_torch]

#: The process group's timeout in these tests (seconds): the fix comes well after it.
TIMEOUT = 3

#: No pause between steps: rank 0 is inside the next all-reduce when rank 1 crashes.
NO_PAUSE = ONE_RANK_BUG.replace("timedelta(seconds=120)", f"timedelta(seconds={TIMEOUT})").replace(
    "        time.sleep(0.3)\n", ""
)
#: Rank 1 crashes before its forward of step 12 (the issue's case: rank 0 waits in the
#: backward's all-reduce for gradients rank 1 never computes); the bug above is removed.
IN_FORWARD = NO_PAUSE.replace(
    "        x, y = batch(step)\n",
    "        x, y = batch(step)\n        if rank == 1 and step == 12:\n            x = x * scale\n",
).replace("normalized = loss.item() / scale", "normalized = loss.item() / 2.0")

#: The step in a function of its own: rank 0 holds in train_step()'s frame, re-runs its
#: all-reduce there and goes on after the backward() to the step and the return.
IN_A_FUNCTION = NO_PAUSE.replace(
    """    for step in range(20):
        x, y = batch(step)
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
""",
    """    def train_step(step):
        x, y = batch(step)
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss


    for step in range(20):
        loss = train_step(step)
""",
)

CASES = {
    # where rank 1 crashes -> (program, the bug's line, its fix)
    "before-its-forward": (IN_FORWARD, "x = x * scale", "x = x * 1.0"),
    "after-its-step": (NO_PAUSE, "normalized = loss.item() / scale", "normalized = loss.item() / 2.0"),
    "backward-in-a-function": (IN_A_FUNCTION, "normalized = loss.item() / scale", "normalized = loss.item() / 2.0"),
}
#: train_step() has no loop: daifu vaccinates it only when selected.
SELECT_TRAIN_STEP = '[tool.daifu]\nselect = ["main.py::train_step"]\n'



@pytest.mark.parametrize("case", sorted(CASES))
def test_a_fix_after_the_process_groups_timeout_resumes_every_rank(tmp_path: Path, case: str) -> None:
    program, bug, fix = CASES[case]
    assert "sleep" not in program.split("for step")[1] and bug in program and "loss.backward()" in program
    run = Run(tmp_path, {"main.py": program, "pyproject.toml": SELECT_TRAIN_STEP})
    process = start_job(TORCHRUN, run)
    try:
        wait_for_states(run, process, ["pausing", "waiting"], timeout=180)
        assert "asked to hold, still inside a call" in status(run)  # inside its all-reduce
        held, crashed = wait_for_states(run, process, ["holding", "waiting"], timeout=60)
        timed_out = next(e for e in run.events() if e["event"] == "collective-timeout")
        crash = next(e for e in run.events() if e["event"] == "crash")
        time.sleep(TIMEOUT)  # the fix comes long after the group's timeout: twice it, and more
        shown = status(run)
        assert "rank 0 of 2, pid" in shown and "holding since" in shown, shown
        fixed_at = time.time()
        run.patch(bug, fix)
        out, err = process.communicate(timeout=180)
    finally:
        if process.returncode is None:
            end_job(process)
    finished(process, out, err)
    events = run.events()
    assert timed_out["rank"] == 0 and timed_out["ts"] - crash["ts"] >= TIMEOUT - 0.5
    assert "its collective failed (Timed out waiting" in err, err[-3000:]
    assert not [e for e in events if e["event"] == "lost-rank"], err[-3000:]
    regroups = [e for e in events if e["event"] == "regroup"]
    assert sorted(e["rank"] for e in regroups) == [0, 1] and {e["generation"] for e in regroups} == {1}
    redone = [e for e in events if e["event"] == "redo-all-reduce"]
    assert [e["rank"] for e in redone] == [0]
    resumes = {e["pid"]: e for e in events if e["event"] == "resume"}
    assert set(resumes) == {held["pid"], crashed["pid"]}
    print(
        f"{case}: rank 0's all-reduce timed out {timed_out['ts'] - crash['ts']:.2f} s after rank 1's crash; "
        f"fix {fixed_at - crash['ts']:.1f} s after it; regroup "
        + ", ".join(f"rank {e['rank']} {e['seconds']:.3f} s" for e in sorted(regroups, key=lambda e: e["rank"]))
        + f"; all-reduce re-run {redone[0]['seconds'] * 1000:.1f} ms; last rank back "
        f"{max(e['ts'] for e in regroups) - fixed_at:.2f} s after the fix"
    )
    fixed = reference(run.src)  # the source holds the fix now
    assert fixed.returncode == 0, fixed.stderr
    finals = sorted(line for line in out.splitlines() if " final " in line)
    assert len(finals) == 2 and finals == sorted(line for line in fixed.stdout.splitlines() if " final " in line)
    assert sorted(out.splitlines()) == sorted(fixed.stdout.splitlines())


def test_three_ranks_two_of_them_timed_out_make_one_new_group(tmp_path: Path) -> None:
    """3 ranks: rank 1 crashes, ranks 0 and 2 both time out in the all-reduce and hold; they
    ask for the same new group once (one generation), all three join it, both re-run their
    all-reduce, and the weights equal the fixed job's run from scratch on 3 ranks. (A 5 s
    timeout: three workers on this 2-core machine start slower.)"""
    program = NO_PAUSE.replace(f"timedelta(seconds={TIMEOUT})", "timedelta(seconds=5)")
    three = [option if option != "--nproc_per_node=2" else "--nproc_per_node=3" for option in TORCHRUN]
    run = Run(tmp_path, {"main.py": program})
    process = start_job(three, run)
    try:
        wait_for_states(run, process, ["holding", "waiting", "holding"], timeout=240)
        run.patch("normalized = loss.item() / scale", "normalized = loss.item() / 2.0")
        out, err = process.communicate(timeout=180)
    finally:
        if process.returncode is None:
            end_job(process)
    events = run.events()
    finals = sorted(line for line in out.splitlines() if " final " in line)
    assert process.returncode == 0 or (len(finals) == 3 and "terminate called without an active exception" in err), err[-3000:]
    assert sorted(e["rank"] for e in events if e["event"] == "collective-timeout") == [0, 2]
    regroups = [e for e in events if e["event"] == "regroup"]
    assert sorted(e["rank"] for e in regroups) == [0, 1, 2] and {e["generation"] for e in regroups} == {1}
    assert sorted(e["rank"] for e in events if e["event"] == "redo-all-reduce") == [0, 2]
    for _attempt in range(3):  # again after gloo's abort at shutdown: see reference()
        fixed = subprocess.run(three, cwd=run.src, capture_output=True, text=True, timeout=240)
        if not gloo_aborted_at_shutdown(fixed.returncode, fixed.stderr):
            break
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert len(finals) == 3 and finals == sorted(line for line in fixed.stdout.splitlines() if " final " in line)


def test_a_second_crash_past_the_timeout_makes_a_second_new_group(tmp_path: Path) -> None:
    """Two bugs on rank 1 (steps 12 and 16), each fixed after rank 0's all-reduce timed out:
    two regroups (generations 1 and 2, the second from the first's group), two re-runs, and
    the weights of the job fixed twice equal those of the fixed job from scratch."""
    program = NO_PAUSE.replace(
        "        time.sleep(0.3)\n", ""
    ).replace(
        "        if rank == 1 and step == 12:\n",
        "        if rank == 1 and step == 16:\n            doubled = loss.item() * factor\n"
        "        if rank == 1 and step == 12:\n",
    )
    assert "loss.item() * factor" in program
    run = Run(tmp_path, {"main.py": program})
    process = start_job(TORCHRUN, run)
    try:
        wait_for_states(run, process, ["holding", "waiting"], timeout=180)
        run.patch("normalized = loss.item() / scale", "normalized = loss.item() / 2.0")
        deadline = time.monotonic() + 60
        while len([e for e in run.events() if e["event"] == "regroup"]) < 2:
            assert time.monotonic() < deadline and process.poll() is None, "the first regroup never happened"
            time.sleep(0.05)
        wait_for_states(run, process, ["holding", "waiting"], timeout=60)
        run.patch("doubled = loss.item() * factor", "doubled = loss.item() * 2.0")
        out, err = process.communicate(timeout=180)
    finally:
        if process.returncode is None:
            end_job(process)
    finished(process, out, err)
    events = run.events()
    regroups = sorted((e["generation"], e["rank"]) for e in events if e["event"] == "regroup")
    assert regroups == [(1, 0), (1, 1), (2, 0), (2, 1)], regroups
    assert [e["rank"] for e in events if e["event"] == "redo-all-reduce"] == [0, 0]
    fixed = reference(run.src)
    assert fixed.returncode == 0, fixed.stderr
    assert sorted(out.splitlines()) == sorted(fixed.stdout.splitlines())


def status(run: Run) -> str:
    return subprocess.run(
        [sys.executable, "-m", "daifu_cli", "status", str(run.out), "--events", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def test_a_backward_in_a_function_daifu_did_not_vaccinate_still_leaves_the_job(tmp_path: Path) -> None:
    """train_step() not selected (no loop in it): the crash lands at `loss = train_step(step)`
    in the loop, where going on after the statement would skip the optimizer's step and running
    it again would redo the forward and add the failed backward's gradients twice. The
    timed-out rank says why and how to select the function, checkpoints and leaves; the crashed
    rank ends with the job. Nothing hangs."""
    run = Run(tmp_path, {"main.py": IN_A_FUNCTION})
    process = start_job(SLOW_AGENT, run)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.returncode is None:
            end_job(process)
    assert process.returncode != 0
    lost = [e for e in run.events() if e["event"] == "lost-rank"]
    assert [e["rank"] for e in lost] == [0], lost
    assert lost[0]["reason"].startswith("its collective timed out while rank 1 waited for a fix")
    assert (
        "daifu cannot re-create the process group here: its backward() ran in train_step() (main.py), "
        "which daifu did not vaccinate" in lost[0]["reason"]
        and "--select FILE::train_step" in lost[0]["reason"]
    ), lost[0]["reason"]
    ends = {s["rank"]: s for s in run.states()}
    assert ends[0]["how"].startswith("left the job: its collective timed out")
    assert ends[1]["how"].startswith("ended with the job (rank 0 left the job: its collective timed out")
    assert not [e for e in run.events() if e["event"] in ("regroup", "collective-timeout")]
    assert " final " not in out and "daifu cannot re-create the process group here" in err


def test_giving_up_while_a_rank_holds_past_its_timeout_ends_every_rank(tmp_path: Path) -> None:
    """`daifu.give_up()` on the crashed rank while the other holds after its all-reduce timed
    out: no regroup, both end (the holding one after its checkpoint), within bounds."""
    run = Run(tmp_path, {"main.py": NO_PAUSE})
    process = start_job(SLOW_AGENT, run)
    try:
        held, _ = wait_for_states(run, process, ["holding", "waiting"], timeout=180)
        run.snippet("daifu.give_up()\n")
        out, err = process.communicate(timeout=60)
    finally:
        if process.returncode is None:
            end_job(process)
    assert process.returncode != 0
    ends = {s["rank"]: s for s in run.states()}
    assert ends[0]["how"] == "ended with the job (rank 1 gave up its crash (given up))", ends
    assert ends[1]["how"] == "uncaught NameError (given up)", ends
    assert [e["rank"] for e in run.events() if e["event"] == "collective-timeout"] == [0]
    assert not [e for e in run.events() if e["event"] in ("regroup", "redo-all-reduce", "lost-rank")]
    checkpoints = [e for e in run.events() if e["event"] == "process-checkpoint" and e["pid"] == held["pid"]]
    assert checkpoints and Path(checkpoints[0]["path"]).is_file()
    assert " final " not in out and "rank 1 gave up its crash (given up); this rank ends too" in err
