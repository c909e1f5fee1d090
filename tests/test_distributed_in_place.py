"""A lost replica recovered in place (torchft's model) with daifu: 2 replica groups, each its
own `torchrun --nproc-per-node=1 --max-restarts=1` job, a real torchft lighthouse, and a real
`kill -9` of one replica's worker at step 40 (it SIGKILLs itself there).

The survivor does not stop: its step at the kill is not committed, the next quorum leaves the
dead replica out, and it goes on training alone; torchrun starts a replacement, which joins a
quorum and receives the state from the survivor; both end with the same weights, which are
those of the committed steps replayed in one process (each step's gradient the mean over the
replicas that committed it). daifu stays out of the way: torchft handles the failed
all-reduce itself, so daifu sees no crash and no lost rank, and the replacement finds no job
checkpoint (a world of one) and runs the program from its start, as torchrun alone would.

Every wait has a bound (the job's, 90 s); the torchrun process trees are killed in a finally
(experiments/in_place/inplace.py's run_job).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import ROOT, requires_torch

HAS_TORCHFT = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("torchft") is not None

pytestmark = [
    pytest.mark.slow,
    requires_torch,
    pytest.mark.skipif(not HAS_TORCHFT, reason="needs torchft (pip install torchft==0.2.0)"),
]

sys.path.insert(0, str(ROOT / "experiments" / "in_place"))
import inplace  # noqa: E402

STEPS = 320
DIE = 40


def test_a_killed_replica_is_replaced_in_place_while_the_survivor_trains(tmp_path: Path) -> None:
    pytest.importorskip("torchft._torchft", reason="torchft's lighthouse and manager (its Rust extension) do not load")
    vax = inplace.vaccinate(tmp_path / "vax")
    logs = tmp_path / "logs"
    got = inplace.run_job(vax, logs, steps=STEPS, pace=0.02, die=DIE, heartbeat_ms=500, timeout=90)
    out = (logs / "job.out").read_text() if (logs / "job.out").exists() else ""
    err = "\n".join((logs / f"replica{r}.err").read_text(errors="replace")[-3000:] for r in range(2))
    assert got.ok, f"{got.why}\n{out[-3000:]}\n{err}"
    assert got.killed_at is not None
    # Detected: the survivor's step in progress at the kill was not committed...
    assert got.uncommitted_steps >= 1 and got.detected_s is not None and got.detected_s < 10, got
    # ...and it kept training alone while the replacement started.
    assert got.solo_steps >= 1, got
    assert got.state_received_s is not None, f"the replacement never received the state\n{err}"
    assert got.received_at_step is not None and got.received_at_step > DIE, got
    replicas = inplace.read(logs / "job.out")
    survivor = [s for s in replicas[0].steps() if s[4]]
    during = [s for s in survivor if got.killed_at < s[0] < got.killed_at + got.state_received_s]
    assert during and all(s[3] == 1 for s in during), during[:5]
    # The replacement's first step is the one the state was received for; nothing was redone
    # but the uncommitted step at the kill.
    replacement = [s for s in replicas[1].steps() if s[0] > got.killed_at]
    assert replacement[0][1] == got.received_at_step, replacement[:3]
    assert got.progress_lost_steps == 0, got
    # Every step committed exactly once by the survivor, 0 to STEPS - 1.
    assert [s[1] for s in survivor] == list(range(STEPS))
    # Both replicas end with the same weights: those of the committed steps replayed.
    assert len(set(got.finals.values())) == 1, got.finals
    assert got.finals[0] == inplace.replay(logs / "job.out", STEPS)
    # daifu: no crash intercepted, no lost rank; the replacement runs the program from its start.
    events = inplace.events(vax)
    assert not [e for e in events if e.get("event") in ("crash", "lost-rank", "job-checkpoint")], events
    replacement_err = (logs / "replica1.err").read_text(errors="replace")
    assert "no job checkpoint is used (attempt 0: no job checkpoint was written" in replacement_err
    assert "runs from its start, as torchrun alone would run it" in replacement_err
    print(
        f"\nin place: detected {got.detected_s * 1000:.0f} ms after the kill; the survivor's longest stop "
        f"{got.survivor_stall_s:.2f} s, {got.solo_steps} steps alone; the replacement received the state of step "
        f"{got.received_at_step} {got.state_received_s:.2f} s after the kill, both training at {got.both_training_s:.2f} s"
    )


@pytest.mark.parametrize("fix_after", [1.0, 7.0])
def test_a_bug_on_one_replica_waits_for_a_fix_and_the_survivor_waits_with_it(tmp_path: Path, fix_after: float) -> None:
    """A shape error in replica 1's forward at step 40: daifu holds replica 1 and waits for a
    fix. With 2 replica groups the survivor cannot go on alone (its all-reduce times out, and
    the lighthouse forms no quorum of 1 while the waiting replica's manager heartbeats). One
    `daifu patch` 1 s or 7 s into the wait (before and after the survivor's all-reduce times
    out) resumes replica 1; step 40 is committed by both, and every
    step is committed by both replicas: the weights are the uninterrupted run's (the replay of
    all steps with both replicas). A fix slower than torchft's quorum timeout (60 s) is not
    tested: both replicas then wait for good (see experiments/in_place/README.md)."""
    pytest.importorskip("torchft._torchft", reason="torchft's lighthouse and manager (its Rust extension) do not load")
    steps = 96
    got = inplace.run_bug_job(tmp_path, steps=steps, bug=DIE, fix_after=fix_after, heartbeat_ms=1000, timeout=90)
    outcome, marks = got["outcome"], got["marks"]
    logs = tmp_path / "run"
    err = "\n".join((logs / f"replica{r}.err").read_text(errors="replace")[-3000:] for r in range(2))
    assert outcome["ok"], f"{outcome['why']}\n{err}"
    assert marks.get("patch_rc") == 0, (marks, err)
    lines = outcome["daifu_lines"]
    assert any(line.startswith("replica 1: daifu: crash intercepted in main()") for line in lines), lines
    assert any(line.startswith("replica 1: daifu: resumed main()") for line in lines), lines
    assert not [line for line in lines if line.startswith("replica 0:")], lines
    replicas = inplace.read(logs / "job.out")
    for r in (0, 1):
        committed = [s for s in replicas[r].steps() if s[4]]
        assert [s[1] for s in committed] == list(range(steps)), r
        assert all(s[3] == 2 for s in committed), [s for s in committed if s[3] != 2][:3]
    # The survivor's step 40 was committed once, after the fix: its all-reduce either waited
    # for the fixed replica (a fix within the process group's 5 s timeout), or timed out, was
    # not committed and was done again with it.
    survivor_40 = [s for s in replicas[0].steps() if s[1] == DIE]
    assert [s[4] for s in survivor_40] == ([True] if fix_after < 5 else [False, True]), survivor_40
    back = survivor_40[-1][0]
    assert back > marks["patching"], (back, marks)
    finals = set(outcome["finals"].values())
    assert finals == {inplace.replay(logs / "job.out", steps)}, finals
    print(
        f"\nbug on replica 1: `daifu patch` {marks['patching'] - marks['waiting']:.2f} s into the wait; step {DIE} committed on "
        f"both {back - marks['patching']:.2f} s after it started ({'after a timed-out try' if len(survivor_40) == 2 else 'its first try'})"
    )
