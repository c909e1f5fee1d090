"""Resume in a new process: a crash is checkpointed (every vaccinated frame), the process
ends (SIGTERM while waiting), the person fixes the source, and `daifu resume` starts the
program again at the failing statement. What the two processes print together equals the
fixed program run from scratch, bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain

NESTED = """
import random

random.seed(0)
history = []


def step(i, weights, noise, scale):
    return [w * scale + noise * i for w in weights]


def train(epochs):
    weights = [0.0, 1.0]
    scale = 1.0
    for epoch in range(epochs):
        for i in range(6):
            noise = random.random()
            weights = step(i, weights, noise, scale / (epoch - 1))
            history.append(round(sum(weights), 6))
        print("epoch", epoch, history[-1], flush=True)
    return weights


def main():
    for attempt in range(1):
        final = train(3)
    print("final", final)


main()
"""

TORCH_SCRIPT = """
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(x)


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for step in range(8):
    x = torch.randn(16, 4)
    loss = model(x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(round(loss.item() / (step - 5), 6))
    print("step", step, flush=True)
print(losses)
print("weights", model.lin.weight.sum().item())
"""


def daifu_resume(checkpoint: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAIFU_CONSOLE": "off", "DAIFU_WAIT": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "daifu_cli", "resume", str(checkpoint), *args],
        capture_output=True, text=True, timeout=300, env=env,
    )


def crash_checkpoint_and_terminate(run: Run) -> tuple[Path, str]:
    """Run until the crash waits, then SIGTERM it; the process checkpoint and what it printed."""
    run.start()
    run.wait_waiting(timeout=120)
    saved = [e for e in run.events() if e["event"] == "process-checkpoint"]
    assert len(saved) == 1, run.events()
    assert run.process is not None
    run.process.send_signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == -signal.SIGTERM, err
    assert f"`daifu resume {saved[0]['path']}` starts it again at the failing statement" in err
    return Path(saved[0]["path"]), out


def test_nested_functions_resume_in_a_new_process_after_a_fix(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    meta = json.loads(checkpoint.read_text())
    assert [f["qualname"] for f in meta["frames"]] == ["main", "train"]  # outermost first
    fix = ("scale / (epoch - 1)", "scale / (epoch - 1 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert "daifu: restored main()" in resumed.stderr and "daifu: restored train()" in resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout  # nothing redone, nothing lost
    assert before == "epoch 0 " + fixed.stdout.split("epoch 0 ")[1].split("\n")[0] + "\n"


def test_script_level_torch_training_resumes_with_its_model_and_optimizer(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    run = Run(tmp_path, {"main.py": TORCH_SCRIPT})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    fix = ("loss.item() / (step - 5)", "loss.item() / (step - 5 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout
    assert before.count("step") == 5  # steps 0-4 printed before the crash; none repeated


def test_a_position_the_fix_removed_is_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    run.patch("        for i in range(6):", "        if True:\n            i = 0")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    # the loop the crash waits inside is gone (align's refusal names it and says why)
    assert "daifu: cannot resume: train(): the fix removed the `for i in range(6)` that the crash happened inside: " \
        "it is a running loop" in resumed.stderr, resumed.stderr
    assert "epoch" not in resumed.stdout
    run.patch("    for epoch in range(epochs):", "    if epochs:\n        epoch = 1")  # no loop left
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2 and "train() is not vaccinated in the current code" in resumed.stderr


def test_bad_checkpoints_are_refused_before_anything_runs(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NESTED})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    state = checkpoint.with_suffix(".state")
    good = state.read_bytes()
    state.write_bytes(good[: len(good) // 2])  # a write cut short
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2 and "incomplete or changed" in resumed.stderr, resumed.stderr
    state.write_bytes(good)
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"format": "something else"}')
    resumed = daifu_resume(foreign)
    assert resumed.returncode == 2 and "not a daifu process checkpoint" in resumed.stderr
    os.chmod(checkpoint.parent, 0o777)
    try:
        resumed = daifu_resume(checkpoint)
        assert resumed.returncode == 2 and "can be written by other users" in resumed.stderr
    finally:
        os.chmod(checkpoint.parent, 0o700)
    # a checkpoint of another output
    other = Run(tmp_path / "other", {"main.py": NESTED})
    moved = other.out / ".daifu" / "jit" / checkpoint.name
    moved.parent.mkdir(parents=True, exist_ok=True)
    moved.write_bytes(checkpoint.read_bytes())
    moved.with_suffix(".state").write_bytes(good)
    env = {**os.environ, "DAIFU_RESUME": str(moved), "DAIFU_CONSOLE": "off"}
    env.pop("PYTHONPATH", None)
    started = subprocess.run([sys.executable, "main.py"], cwd=other.out, capture_output=True, text=True, env=env, timeout=60)
    assert started.returncode == 2 and "it belongs to the output" in started.stderr, started.stderr
    assert started.stdout == ""  # refused before the program did anything


CALLED_BY_A_LIBRARY = """
import ast


class Counter(ast.NodeVisitor):
    def visit_Module(self, node):
        for i, stmt in enumerate(node.body):
            print("visit", i, 1 / (i - 1), flush=True)


Counter().visit(ast.parse("a = 1\\nb = 2\\nc = 3"))
"""


def test_frames_called_through_library_code_get_no_process_checkpoint(tmp_path: Path) -> None:
    """A new process would run the library's loop (here ast.NodeVisitor.visit) from its start:
    no process checkpoint is written, the report says why, and none is advertised."""
    run = Run(tmp_path, {"main.py": CALLED_BY_A_LIBRARY}).start()
    try:
        run.wait_waiting()
        events = [e for e in run.events() if e["event"] == "process-checkpoint"]
        assert events and events[0]["saved"] is False and "ast.py" in events[0]["reason"], events
        run.snippet("daifu.skip()\n")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 0, err
    assert "No process checkpoint: called through library code that would start over" in err
    assert "daifu resume" not in err


HOLDS_A_FILE = """
def train():
    handle = open(__file__)
    total = 0
    for i in range(3):
        total += 1 / (i - 1)
    handle.close()
    print(total)


train()
"""


def test_what_cannot_be_saved_is_named(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": HOLDS_A_FILE}).start()
    try:
        run.wait_waiting()
        saved = [e for e in run.events() if e["event"] == "process-checkpoint"]
        assert saved and any(item.startswith("handle (frame 0): TextIOWrapper cannot be saved") for item in saved[0]["lost"]), saved
        meta = json.loads(Path(saved[0]["path"]).read_text())
        assert meta["lost"] == saved[0]["lost"]
        run.snippet("daifu.give_up()\n")
        _, _, err = run.finish()
    finally:
        run.kill()
    assert "  not saved: handle (frame 0): TextIOWrapper cannot be saved" in err


def test_the_console_checkpoint_saves_the_state_as_changed_while_waiting(tmp_path: Path) -> None:
    """The console changes variables; `checkpoint` from `daifu attach` saves a new process
    checkpoint beside the first; resuming it carries the changed value (and the fix)."""
    run = Run(tmp_path, {"main.py": NESTED}).start()
    try:
        run.wait_waiting()
        console = subprocess.run(
            [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
            input="exec history.append(-1.0)\nexec scale = 2.0\ncheckpoint\n",
            capture_output=True, text=True, timeout=60,
        )
        assert "saved " in console.stdout and "daifu resume" in console.stdout, console.stdout
        first, second = sorted(e["path"] for e in run.events() if e["event"] == "process-checkpoint")
        assert Path(first).is_file() and Path(second).is_file() and first != second
        assert run.process is not None
        run.process.send_signal(signal.SIGTERM)
        run.finish()
    finally:
        run.kill()
    fix = ("scale / (epoch - 1)", "scale / (epoch - 1 or 1)")
    run.patch(*fix)
    later, earlier = (second, first) if second.endswith("-2.json") else (first, second)
    at_crash = daifu_resume(Path(earlier))
    changed = daifu_resume(Path(later))
    assert at_crash.returncode == 0 and changed.returncode == 0, changed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert fixed.stdout.endswith(at_crash.stdout)  # the state at the crash
    assert changed.stdout != at_crash.stdout  # the state as the console left it (scale 2.0)
    assert changed.stdout.startswith("epoch 1 ") and changed.stdout.splitlines()[-1].startswith("final")


RUNNING = """
import random
import sys
import time

random.seed(1)


def train(steps):
    weights = [0.0, 1.0]
    for step in range(steps):
        noise = random.random()
        weights = [w * 0.9 + noise for w in weights]
        print("step", step, round(sum(weights), 6), flush=True)
        if step == 5:
            print("ready", flush=True, file=sys.stderr)
        time.sleep(0.02)
    return weights


print("final", train(60))
"""


def test_sigusr1_and_sigterm_checkpoint_a_running_program_at_a_statement_boundary(tmp_path: Path) -> None:
    """SIGUSR1 writes a process checkpoint and the run goes on; SIGTERM writes one at the next
    statement boundary and ends the process by the signal; `daifu resume` of that one completes
    the run: both processes' output together is the uninterrupted run's, bit for bit."""
    import time

    run = Run(tmp_path, {"main.py": RUNNING})
    plain = run_plain(run.src).stdout
    run.start()
    assert run.process is not None and run.process.stderr is not None
    assert run.process.stderr.readline().strip() == "ready"
    run.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while not list((run.out / ".daifu" / "jit").glob("*sigusr1*.json")):
        assert time.monotonic() < deadline, "no checkpoint after SIGUSR1"
        time.sleep(0.02)
    time.sleep(0.2)
    run.process.send_signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == -signal.SIGTERM, err
    assert "daifu: SIGUSR1: process checkpoint" in err and "daifu: SIGTERM: process checkpoint" in err, err
    assert "final" not in out  # it really stopped early
    checkpoint = next((run.out / ".daifu" / "jit").glob("*sigterm*.json"))
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert out + resumed.stdout == plain


FIRST_TRY = """
    def train(n):
        try:
            total = 0
        except KeyError:
            total = -1
        for i in range(n):
            total += 10 // (i - 2)
            print("step", i, total)
        return total


    def main():
        while True:
            print("result", train(4))
            break


    main()
"""


def test_functions_starting_with_try_or_while_true_resume(tmp_path: Path) -> None:
    """On 3.11+ a ``try:`` or ``while True:`` line is a NOP no exception handler covers: the
    restore raised there left the function without reaching its barrier, and the program ran
    from its start. It is raised at the next covered line, inside the ``try``, whose handlers
    let it pass (it is no ``Exception``)."""
    run = Run(tmp_path, {"main.py": FIRST_TRY})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    fix = ("10 // (i - 2)", "10 // (i - 2 or 5)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert "daifu: restored main()" in resumed.stderr and "daifu: restored train()" in resumed.stderr
    assert before + resumed.stdout == run_plain(fixed_copy(run, tmp_path, [fix])).stdout


def test_a_first_try_whose_handler_would_catch_the_restore_is_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": FIRST_TRY.replace("except KeyError:", "except BaseException:")})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert "starts with a `try` whose `except BaseException` would catch the restore" in resumed.stderr


LOCAL_FUNCTIONS = """
import torch
from torch import nn


def train(steps, warmup):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: min(1.0, (it + 1) / warmup))

    def target(x):  # a closure over `steps`
        return x.sum(1, keepdim=True) / steps

    for step in range(steps):
        x = torch.randn(8, 4)
        loss = ((model(x) - target(x)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        print("step", step, round(loss.item() / (step - 5), 8), scheduler.get_last_lr()[0], flush=True)
    print("weights", model.weight.sum().item())


train(8, 4)
"""


def test_local_functions_of_the_program_are_saved_by_value(tmp_path: Path) -> None:
    """A lambda in a LambdaLR and a nested function were refused by pickle ("Can't pickle
    local object"), and the scheduler with them: the resumed train() met `scheduler` unbound.
    Saved by value now (code, module, closure), the resumed run prints what the fixed program
    prints from scratch."""
    run = Run(tmp_path, {"main.py": LOCAL_FUNCTIONS})
    checkpoint, first = crash_checkpoint_and_terminate(run)
    meta = json.loads(checkpoint.read_text())
    assert not [item for item in meta["lost"] if "cannot be saved (" in item], meta["lost"]
    edit = ("(step - 5), 8)", "(step - 5 or 1), 8)")
    run.patch(*edit)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    expected = run_plain(fixed_copy(run, tmp_path, [edit]))
    assert first + resumed.stdout == expected.stdout
