"""The numbers crashbench reports, computed from recorded timestamps only (no processes here).

Keeping the arithmetic apart from the process handling lets the tests check it on recorded
values, and keeps the one definition of *restore time* in one place:

    restore = (t_ready - t_crash) + max(0, t_back - t_fix_done)

* ``t_crash``: the crash. In-situ: the ``crash`` event of daifu's journal. Baselines: the exit
  of the crashed process (a restart cannot begin before the process is gone).
* ``t_ready``: the moment a fix can be applied. In-situ: the time daifu wrote the ``waiting``
  state. Baselines: ``t_ready = t_crash``. Automatic recovery: ``t_ready = t_crash``.
* ``t_fix_done``: when the harness finished applying the known fix (edit + ``daifu patch``
  returned, snippet renamed into place, fixed copy written; at once for automatic recovery).
  The interval from ``t_ready`` to ``t_fix_done`` is the harness's reaction (a human's thinking
  time in real life) and is left out.
* ``t_back``: execution is back at the failing point with the fix in place. In-situ: the
  ``resume`` event. Baselines: the rerun's first ``CB step`` line at or after the crash step.

When daifu resumes before ``daifu patch`` has returned (the runtime applied the new file
while the patch command was still exiting) the second term is 0, not negative.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: CheckFreq keeps the checkpointing cost under this fraction of the iteration time.
CHECKPOINT_BUDGET = 0.035

_STEP = re.compile(r"^CB step (-?\d+) (\d+(?:\.\d+)?)\s*$")
_RESTORED = re.compile(r"^CB restored step (-?\d+) (\d+(?:\.\d+)?)\s*$")
_SAVED = re.compile(r"^CB saved (-?\d+) (\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Restore:
    """One restore-time measurement, with its parts (seconds, Unix times)."""

    t_crash: float
    t_ready: float
    t_fix_done: float
    t_back: float
    #: In-situ: the checkpoints daifu writes at the crash before it waits, left out of the
    #: restore time (reported on their own; a strategy that needs them counts them).
    checkpoint_s: float = 0.0

    @property
    def until_ready(self) -> float:
        return max(0.0, self.t_ready - self.t_crash - self.checkpoint_s)

    @property
    def after_fix(self) -> float:
        return max(0.0, self.t_back - self.t_fix_done)

    @property
    def seconds(self) -> float:
        return self.until_ready + self.after_fix

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "until_ready_s": self.until_ready,
            "after_fix_s": self.after_fix,
            "after_fix_raw_s": self.t_back - self.t_fix_done,
            "restore_s": self.seconds,
        }


def baseline_restore(t_exit: float, t_fix_done: float, rerun_stderr: Iterable[str], crash_step: int) -> Restore | None:
    """Restart and checkpoint-retry: ready when the crashed process is gone, back when the
    rerun starts the step that crashed (``None`` if it never does)."""
    t_back = step_time(rerun_stderr, crash_step)
    return None if t_back is None else Restore(t_exit, t_exit, t_fix_done, t_back)


def in_situ_restore(
    events: Sequence[dict[str, Any]], t_ready: float | None, t_fix_done: float | None
) -> tuple[Restore, dict[str, Any]] | None:
    """In-situ, from daifu's journal: the crash that waited (the last one logged before the
    run said it waits) and the first resume after it. Automatic recovery (``t_ready`` is
    ``None``): the first crash and the last resume (retries included), ready and fixed at the
    crash. Returns the measurement and the ``resume`` event, ``None`` without both events."""
    crashes = [e for e in events if e.get("event") == "crash"]
    resumes = [e for e in events if e.get("event") == "resume"]
    if not crashes or not resumes:
        return None
    if t_ready is None or t_fix_done is None:
        t_crash = float(crashes[0]["ts"])
        return Restore(t_crash, t_crash, t_crash, float(resumes[-1]["ts"])), resumes[-1]
    waited = [e for e in crashes if float(e["ts"]) <= t_ready] or crashes
    t_crash = float(waited[-1]["ts"])
    resume = next((e for e in resumes if float(e["ts"]) >= t_crash), resumes[-1])
    written = checkpoint_write_s(events, t_crash, t_ready)
    return Restore(t_crash, t_ready, t_fix_done, float(resume["ts"]), written), resume


def checkpoint_write_s(events: Sequence[dict[str, Any]], t_crash: float, t_ready: float) -> float:
    """The checkpoints written between the crash and the wait (journal ``ms``): the process
    checkpoint, a JIT checkpoint written alone (one that shares the process checkpoint's
    payload is the same write), a framework's."""
    total = 0.0
    for e in events:
        if not t_crash <= float(e.get("ts", 0.0)) <= t_ready or e.get("ms") is None:
            continue
        kind = e.get("event")
        if kind in ("process-checkpoint", "framework-checkpoint") or (kind == "jit-checkpoint" and not e.get("shared_with")):
            total += float(e["ms"]) / 1000
    return total


def steps(stderr_lines: Iterable[str]) -> list[tuple[int, float]]:
    """The ``CB step N <time>`` marks of a run, in order."""
    found = []
    for line in stderr_lines:
        match = _STEP.match(line)
        if match:
            found.append((int(match.group(1)), float(match.group(2))))
    return found


def step_time(stderr_lines: Iterable[str], number: int) -> float | None:
    """When the run first started step *number* or a later one. A later one counts when the
    crash came between two marks (a DataLoader worker failing the batch after the last mark):
    a checkpoint written at the end of that step restores past it."""
    for step, when in steps(stderr_lines):
        if step >= number:
            return when
    return None


def restored_step(stderr_lines: Iterable[str]) -> int | None:
    """The step a run restored from a checkpoint (``CB restored step N``), if any."""
    for line in stderr_lines:
        match = _RESTORED.match(line)
        if match:
            return int(match.group(1))
    return None


def save_durations(stderr_lines: Iterable[str]) -> list[float]:
    """Durations of the checkpoint saves the probe timed (``CB saved N <seconds>``)."""
    out = []
    for line in stderr_lines:
        match = _SAVED.match(line)
        if match:
            out.append(float(match.group(2)))
    return out


def final_line(stdout_lines: Iterable[str]) -> str | None:
    lines = [line.rstrip("\n") for line in stdout_lines if line.startswith("final:")]
    return lines[-1] if lines else None


def iteration_time(marks: Sequence[tuple[int, float]]) -> float | None:
    """Mean time per step over a run (first to last step mark); the iteration time of
    CheckFreq's rule. Evaluation steps are part of it, as they are part of training."""
    if len(marks) < 2:
        return None
    return (marks[-1][1] - marks[0][1]) / (len(marks) - 1)


def loop_time(marks: Sequence[tuple[int, float]], end: float | None) -> float | None:
    """The training loop's duration: the first step mark to *end* (the ``final:`` line's
    arrival, or the process exit). Process start-up (imports) is left out on purpose: it is
    the same with and without daifu, and would dilute the overhead of the loop."""
    if not marks or end is None:
        return None
    return end - marks[0][1]


def checkpoint_every(t_iteration: float, t_checkpoint: float, budget: float = CHECKPOINT_BUDGET) -> int:
    """CheckFreq's frequency: checkpoint every *k* steps so that saving costs about *budget*
    of the training time, ``k = ceil(t_c / (budget * t_i))``, at least 1."""
    if t_iteration <= 0:
        return 1
    return max(1, math.ceil(t_checkpoint / (budget * t_iteration)))


def spread(values: Iterable[float | None]) -> dict[str, Any] | None:
    """Median, min, max and count of the values that exist (``None`` if there are none)."""
    real = [v for v in values if v is not None and not math.isnan(v)]
    if not real:
        return None
    return {"median": statistics.median(real), "min": min(real), "max": max(real), "n": len(real)}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator
