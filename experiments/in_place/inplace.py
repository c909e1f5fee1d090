"""Run the torchft program as 2 replica groups (each its own torchrun job), kill one replica's
worker at a step, and measure the in-place recovery.

    python experiments/in_place/inplace.py --runs 3 [--daifu] [--heartbeat-ms 1000]

The lighthouse runs in this process (torchft's ``LighthouseServer``, min_replicas=1). Every
replica group is ``torchrun --standalone --nnodes=1 --nproc-per-node=1 --max-restarts=1``;
replica 1's worker (``--victim``) SIGKILLs itself at step STEP_TO_DIE on torchrun's first
attempt, and its agent starts a replacement, which joins the next quorum and receives the
state from the survivor (torchft's HTTP checkpoint transport). Every wait has a bound; the jobs' process trees are
killed in a ``finally``.

Also used by tests/test_distributed_in_place.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "program"  # torchft: in place
ENTRY = "train_ft.py"
DDP_PROGRAM = HERE / "ddp"  # plain DDP: daifu's part (a), torchrun's restart
DDP_ENTRY = "train_ddp.py"
LINE = re.compile(r"^(\d+\.\d+) replica (\d+) (.*)$")
STEP = re.compile(r"^step (\d+) loss (\S+) participants (\d+) committed (\d)$")


def vaccinate(out: Path, program: Path = PROGRAM) -> Path:
    """`daifu vaccinate` *program* into *out* (the daifu of this Python's environment)."""
    subprocess.run(
        [sys.executable, "-m", "daifu_cli", "vaccinate", str(program), "-o", str(out), "--force"],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return out


def descendants(root: int) -> list[int]:
    """Every process below *root* (torchrun starts its workers in sessions of their own)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """SIGKILL a torchrun and everything below it (only the processes this module started)."""
    for pid in [*descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class Replica:
    lines: list[tuple[float, str]] = field(default_factory=list)  # (time, text)

    def steps(self) -> list[tuple[float, int, float, int, bool]]:
        """(time, step, loss, participants, committed) of each step line."""
        found = []
        for ts, text in self.lines:
            m = STEP.match(text)
            if m:
                found.append((ts, int(m.group(1)), float(m.group(2)), int(m.group(3)), m.group(4) == "1"))
        return found

    def final(self) -> str | None:
        return next((text.split()[1] for _, text in self.lines if text.startswith("final ")), None)

    def first(self, prefix: str, after: float = 0.0) -> float | None:
        return next((ts for ts, text in self.lines if text.startswith(prefix) and ts >= after), None)


def read(path: Path) -> dict[int, Replica]:
    replicas: dict[int, Replica] = {}
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            replicas.setdefault(int(m.group(2)), Replica()).lines.append((float(m.group(1)), m.group(3)))
    return replicas


@dataclass
class Outcome:
    ok: bool
    why: str
    wall_s: float
    killed_at: float | None = None
    detected_s: float | None = None  # survivor's first uncommitted step after the kill
    survivor_stall_s: float | None = None  # survivor's longest gap between committed steps
    survivor_back_s: float | None = None  # survivor's first committed step after the kill
    uncommitted_steps: int = 0  # survivor's step attempts that were not applied
    solo_steps: int = 0  # survivor's committed steps with one participant
    replacement_started_s: float | None = None  # the replacement's first line
    state_received_s: float | None = None  # its load_state_dict callback ran
    received_at_step: int | None = None
    both_training_s: float | None = None  # the replacement's first committed step
    progress_lost_steps: int | None = None  # committed steps undone (torchft: none)
    median_step_ms: float | None = None  # replica 0's median interval between step lines
    finals: dict[int, str] = field(default_factory=dict)
    daifu_lines: list[str] = field(default_factory=list)


def measure(out: Path, err: dict[int, str], wall: float, groups: int, steps: int, die: int, victim: int = 1) -> Outcome:
    replicas = read(out)
    finals = {r: rep.final() for r, rep in replicas.items()}
    finals = {r: f for r, f in finals.items() if f is not None}
    daifu_lines = [f"replica {r}: {line}" for r, text in err.items() for line in text.splitlines() if "daifu" in line.lower()]
    outcome = Outcome(ok=len(finals) == groups, why="" if len(finals) == groups else f"finals {finals}", wall_s=wall,
                      finals=finals, daifu_lines=daifu_lines)
    alive = 1 - victim  # the survivor (of 2 replica groups)
    if alive in replicas:
        times = [s[0] for s in replicas[alive].steps()]
        gaps = sorted(b - a for a, b in itertools.pairwise(times))
        outcome.median_step_ms = round(gaps[len(gaps) // 2] * 1000, 2) if gaps else None
    if die < 0 or victim not in replicas:
        return outcome
    killed = replicas[victim].first(f"dies at step {die}")
    if killed is None:
        outcome.ok, outcome.why = False, f"replica {victim} never reached its step to die"
        return outcome
    outcome.killed_at = killed
    survivor = [s for s in replicas[alive].steps() if s[0] >= killed]
    failed = [s for s in survivor if not s[4]]
    outcome.uncommitted_steps = len(failed)
    outcome.detected_s = failed[0][0] - killed if failed else None
    committed = [s for s in survivor if s[4]]
    outcome.survivor_back_s = committed[0][0] - killed if committed else None
    times = [killed] + [s[0] for s in committed]
    outcome.survivor_stall_s = max(b - a for a, b in itertools.pairwise(times)) if len(times) > 1 else None
    outcome.solo_steps = sum(1 for s in committed if s[3] == 1)
    started = replicas[victim].first("pid ", after=killed)
    received = replicas[victim].first("received the state", after=killed)
    outcome.replacement_started_s = started - killed if started else None
    outcome.state_received_s = received - killed if received else None
    if received:
        text = next(t for ts, t in replicas[victim].lines if ts == received and t.startswith("received"))
        outcome.received_at_step = int(text.split()[5])
    back = [s for s in replicas[victim].steps() if s[0] >= killed and s[4]]
    outcome.both_training_s = back[0][0] - killed if back else None
    # Progress lost: committed steps the job had before the kill and did again after it.
    before = max((s[1] for s in replicas[alive].steps() if s[0] < killed and s[4]), default=-1)
    after = min((s[1] for s in committed), default=before + 1)
    outcome.progress_lost_steps = before + 1 - after
    if outcome.ok and len(set(finals.values())) != 1:
        outcome.ok, outcome.why = False, f"the replicas' final weights differ: {finals}"
    return outcome


def run_job(folder: Path, logs: Path, *, groups: int = 2, steps: int = 200, pace: float = 0.02, die: int = -1,
            heartbeat_ms: int = 1000, timeout: float = 150, monitor: str = "0.1", victim: int = 1,
            extra_env: dict[int, dict[str, str]] | None = None, on_tick: Callable[[], None] | None = None) -> Outcome:
    """Run the program in *folder* (plain or vaccinated) as *groups* replica groups
    (*extra_env*: more variables for a replica; *on_tick*: called every 0.1 s while it runs)."""
    from torchft._torchft import LighthouseServer

    logs.mkdir(parents=True, exist_ok=True)
    meet = Path(tempfile.mkdtemp(prefix="meet-", dir=logs))
    lighthouse = LighthouseServer(bind="[::]:0", min_replicas=1, join_timeout_ms=10000, heartbeat_timeout_ms=heartbeat_ms)
    processes: list[subprocess.Popen] = []  # type: ignore[type-arg]
    errs: dict[int, str] = {}
    start = time.time()
    try:
        for r in range(groups):
            env = {**os.environ, "REPLICA_GROUP_ID": str(r), "NUM_REPLICA_GROUPS": str(groups), "STEPS": str(steps),
                   "PACE": str(pace), "START_DIR": str(meet), "TORCHFT_LIGHTHOUSE": lighthouse.address(),
                   "DAIFU_CONSOLE": "off", "PYTHONUNBUFFERED": "1"}
            env.pop("PYTHONPATH", None)
            env.pop("STEP_TO_DIE", None)
            if r == victim and die >= 0:
                env["STEP_TO_DIE"] = str(die)
            env.update((extra_env or {}).get(r, {}))
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
                       "--nproc-per-node=1", "--max-restarts=1", f"--monitor-interval={monitor}", ENTRY]
            with open(logs / f"replica{r}.out", "w") as stdout, open(logs / f"replica{r}.err", "w") as stderr:
                processes.append(subprocess.Popen(command, cwd=folder, env=env, stdout=stdout, stderr=stderr,
                                                  stdin=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in processes):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the job did not end within {timeout} s")
            if on_tick is not None:
                on_tick()
            time.sleep(0.1)
    except TimeoutError as e:
        errs[-1] = str(e)
    finally:
        for p in processes:
            kill_tree(p)
        lighthouse.shutdown()
    wall = time.time() - start
    combined = logs / "job.out"
    combined.write_text("".join((logs / f"replica{r}.out").read_text(errors="replace") for r in range(groups)))
    for r in range(groups):
        errs[r] = (logs / f"replica{r}.err").read_text(errors="replace")
    outcome = measure(combined, errs, wall, groups, steps, die, victim)
    if -1 in errs:
        outcome.ok, outcome.why = False, errs[-1]
    return outcome


def run_restart_job(folder: Path, logs: Path, *, steps: int = 192, pace: float = 0.02, die: int = -1,
                    timeout: float = 180, monitor: str = "0.1") -> Outcome:
    """Part (a): the plain DDP program in *folder* (vaccinated) as one torchrun job of 2 ranks,
    ``--max-restarts=1``; rank 1 SIGKILLs itself at step *die*."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STEPS": str(steps), "PACE": str(pace), "STEP_TO_DIE": str(die), "DAIFU_CONSOLE": "off",
           "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc-per-node=2",
               "--max-restarts=1", f"--monitor-interval={monitor}", DDP_ENTRY]
    why = ""
    start = time.time()
    with open(logs / "job.out", "w") as stdout, open(logs / "job.err", "w") as stderr:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        why = f"the job did not end within {timeout} s"
    finally:
        kill_tree(process)
    wall = time.time() - start
    err = (logs / "job.err").read_text(errors="replace")
    outcome = measure(logs / "job.out", {0: err}, wall, 2, steps, die)
    if why:
        outcome.ok, outcome.why = False, why
    if outcome.killed_at is not None:
        # Detection: daifu's lost-rank event on the survivor (torchft's is its failed step).
        lost = [e["ts"] for e in events(folder) if e.get("event") == "lost-rank" and e["ts"] >= outcome.killed_at]
        outcome.detected_s = min(lost) - outcome.killed_at if lost else None
    return outcome


def events(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    """daifu's event log of a vaccinated output."""
    found = []
    try:
        lines = (folder / ".daifu" / "log.jsonl").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


BUGGY = "ddp(x if step != BUG else x[:, :4])"


def run_bug_job(logs: Path, *, steps: int = 192, pace: float = 0.02, bug: int = 40, fix_after: float = 5.0,
                heartbeat_ms: int = 1000, timeout: float = 150, groups: int = 2) -> dict:  # type: ignore[type-arg]
    """A bug (a shape error) in replica 1's forward at step *bug*, under daifu: replica 1 waits
    for a fix; *fix_after* seconds after it starts waiting, the source is fixed and `daifu
    patch` sends the fix. What does the survivor do meanwhile, and what happens after?"""
    src = logs / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(PROGRAM, src)
    vax = logs / "vax"
    subprocess.run([sys.executable, "-m", "daifu_cli", "vaccinate", str(src), "-o", str(vax), "--force"],
                   check=True, capture_output=True, text=True, timeout=120)
    marks: dict[str, float] = {}

    def tick() -> None:
        if "waiting" not in marks:
            err = (logs / "run" / "replica1.err")
            if err.exists() and "Waiting for a fix" in err.read_text(errors="replace"):
                marks["waiting"] = time.time()
        elif "fixed" not in marks and time.time() - marks["waiting"] >= fix_after:
            marks["patching"] = time.time()  # `daifu patch` starts (the run may apply it before the CLI returns)
            text = (src / ENTRY).read_text()
            (src / ENTRY).write_text(text.replace(BUGGY, "ddp(x)"))
            done = subprocess.run([sys.executable, "-m", "daifu_cli", "patch", str(src), "-o", str(vax)],
                                  capture_output=True, text=True, timeout=60)
            marks["fixed"] = time.time()
            marks["patch_rc"] = done.returncode

    outcome = run_job(vax, logs / "run", groups=groups, steps=steps, pace=pace, heartbeat_ms=heartbeat_ms,
                      timeout=timeout, extra_env={1: {"BUG_AT_STEP": str(bug)}}, on_tick=tick)
    replicas = read(logs / "run" / "job.out")
    return {"outcome": asdict(outcome), "marks": marks, "events": [e.get("event") for e in events(vax)],
            "steps": {r: [(round(ts, 3), st, p, c) for ts, st, _, p, c in rep.steps()
                          if bug - 2 <= st <= bug + 3 or not c] for r, rep in replicas.items()}}


def replay(out: Path, steps: int, groups: int = 2) -> str:
    """The final weights' checksum of the committed steps replayed in one process: at each
    step, the mean of the gradients of the replica groups that committed it, then SGD. The
    job's weights should equal it bit for bit, whichever steps one replica missed."""
    spec = importlib.util.spec_from_file_location("train_ft", PROGRAM / ENTRY)
    assert spec and spec.loader
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    import torch

    who: dict[int, set[int]] = {}
    for r, rep in read(out).items():
        for _, step, _, _, committed in rep.steps():
            if committed:
                who.setdefault(step, set()).add(r)
    inputs, targets, model, optimizer = program.build()
    for step in range(steps):
        grads = []
        for r in sorted(who[step]):
            model.zero_grad(set_to_none=True)
            x, y = program.batch(inputs, targets, step, r)
            ((model(x) - y) ** 2).mean().backward()
            grads.append([p.grad.clone() for p in model.parameters()])
        total = grads[0]
        for more in grads[1:]:
            total = [a + b for a, b in zip(total, more, strict=True)]
        for p, g in zip(model.parameters(), total, strict=True):
            p.grad = g / len(grads)
        optimizer.step()
    with torch.no_grad():
        return f"{program.checksum(model):.12f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--daifu", action="store_true", help="run the vaccinated program")
    parser.add_argument("--restart", action="store_true",
                        help="part (a) instead: the plain DDP program, vaccinated, one torchrun job of 2 ranks")
    parser.add_argument("--steps", type=int, default=192)
    parser.add_argument("--die", type=int, default=40)
    parser.add_argument("--pace", type=float, default=0.02)
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    parser.add_argument("--victim", type=int, default=1, choices=(0, 1), help="the replica group whose worker dies")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "inplace-logs")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--timeout", type=float, default=150)
    parser.add_argument("--bug", type=int, help="instead: a bug on replica 1 at this step, fixed with daifu patch")
    parser.add_argument("--fix-after", type=float, default=5.0)
    parser.add_argument("--groups", type=int, default=2, help="replica groups (--bug only)")
    args = parser.parse_args()
    if args.bug is not None:
        for i in range(args.runs):
            row = run_bug_job(args.logs / f"bug{i}", steps=args.steps, bug=args.bug, fix_after=args.fix_after,
                              heartbeat_ms=args.heartbeat_ms, timeout=args.timeout, groups=args.groups)
            print(json.dumps(row), flush=True)
        return
    folder = PROGRAM
    if args.restart:
        folder = vaccinate(args.logs / "vax-ddp", DDP_PROGRAM)
    elif args.daifu:
        folder = vaccinate(args.logs / "vax")
    results = []
    for i in range(args.runs):
        logs = args.logs / f"run{i}"
        shutil.rmtree(logs, ignore_errors=True)
        load = os.getloadavg()[0]
        if args.restart:
            outcome = run_restart_job(folder, logs, steps=args.steps, pace=args.pace, die=args.die)
        else:
            outcome = run_job(folder, logs, steps=args.steps, pace=args.pace, die=args.die,
                              heartbeat_ms=args.heartbeat_ms, timeout=args.timeout, victim=args.victim)
        row = {"load": load, "after_load": os.getloadavg()[0], **asdict(outcome)}
        if outcome.ok and not args.restart:
            row["replay"] = replay(logs / "job.out", args.steps)
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
