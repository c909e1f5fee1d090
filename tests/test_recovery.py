"""Recovery in real processes: crash, fix by each route, resume, compare with the fixed program.

Each test vaccinates a small training-like program, runs it in a subprocess, waits for the
crash to be intercepted, delivers a fix the way a user would, and checks the final output
against the fixed program run from scratch.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run, fixed_copy, run_plain

from daifu_cli.patch import patch_once

LOOP = """
    import json

    def load_config():
        return {"scale": 2, "steps": 8}

    def train(config):
        total = 0
        history = []
        for step in range(config["steps"]):
            value = step * config["scale"]
            if step == 5:
                value = value / divisor
            total += value
            history.append(total)
            print("step", step, total, flush=True)
        return history

    if __name__ == "__main__":
        history = train(load_config())
        print("final", json.dumps(history))
"""


def test_action_snippet_fixes_a_variable_and_resumes(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    state = run.wait_waiting()
    assert state["exception"] == "NameError"
    assert state["line"] == 12 and state["function"] == "train"
    run.snippet("divisor = 4\n")
    code, out, err = run.finish()
    assert code == 0, err
    fixed = run_plain(fixed_copy(run, tmp_path, [("value / divisor", "value / 4")]))
    assert out == fixed.stdout
    assert out.count("step 0 ") == 1, "resuming must not re-run earlier iterations"
    events = [e["event"] for e in run.events()]
    assert events == ["crash", "process-checkpoint", "action", "resume"]
    resume = run.events()[-1]
    assert resume["restore_ms"] < 1000


def test_daifu_patch_resumes_with_new_code_including_inserted_statements(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    changed = run.patch(
        "        if step == 5:\n            value = value / divisor\n",
        "        if step == 5:\n            divisor = 3\n            value = value / divisor\n",
    )
    assert changed == ["main.py"]
    code, out, err = run.finish()
    assert code == 0, err
    fixed = run_plain(run.src)  # the source now holds the fix
    assert out == fixed.stdout


DEFAULTS = """
    SCALE = 4


    def normalize(value, scale=0, *, offset=SCALE - 4):
        return value / scale + offset


    class Meter:
        def read(self, value, unit="none"):
            return f"{value:.2f} {unit}"


    def train():
        meter = Meter()
        for step in range(4):
            print(meter.read(normalize(step + 1.0)))


    train()
"""


def test_a_fix_that_changes_default_values_takes_effect(tmp_path: Path) -> None:
    """Re-running a ``def`` re-evaluates its defaults: a patch that only changes them (here
    the divisor of a helper, and a method's default unit) must change what the next call gets,
    not only the function's code."""
    run = Run(tmp_path, {"main.py": DEFAULTS}).start()
    run.wait_waiting()
    run.edit_source("scale=0, *, offset=SCALE - 4", "scale=SCALE, *, offset=SCALE - 3")
    run.edit_source('unit="none"', 'unit="au"')
    assert patch_once(run.src, run.out) == ["main.py"]
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "1.25 au\n1.50 au\n1.75 au\n2.00 au\n"


CAPTURED_PARAMETER = """
    import contextlib


    def evaluate(policy, episodes=3):
        total = 0
        with contextlib.nullcontext():
            for episode in range(episodes):
                total += policy(episode).real()
        return total


    print(evaluate(lambda e: e + 5))
"""


def test_a_parameter_captured_by_a_cell_survives_the_resume(tmp_path: Path) -> None:
    """The crash is inside a ``with`` cell that reads the function's parameter ``policy`` (a
    closure cell of the function); freeing the crashed frames' locals must not empty it."""
    run = Run(tmp_path, {"main.py": CAPTURED_PARAMETER}).start()
    run.wait_waiting()
    run.patch("policy(episode).real()", "policy(episode).real")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "18\n"


def test_editing_the_vaccinated_file_in_place(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    path = run.out / "main.py"
    text = path.read_text()
    assert "value = value / divisor" in text
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text.replace("value = value / divisor", "value = value / 5"))
    os.replace(tmp, path)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(fixed_copy(run, tmp_path, [("value / divisor", "value / 5")])).stdout


def test_broken_patch_keeps_waiting_then_a_good_one_resumes(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    patched = run.patch("value = value / divisor", "value = value / (divisor")  # syntax error
    assert list(patched) == [] and patched.errors, "daifu patch does not write a fix that does not parse"
    # the same broken fix written into the vaccinated copy by hand reaches the run: refused there
    vaccinated = run.out / "main.py"
    vaccinated.write_text(vaccinated.read_text().replace("value = value / divisor", "value = value / (divisor"))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not any(e["event"] == "patch" for e in run.events()):
        time.sleep(0.02)
    time.sleep(0.2)
    assert run.process is not None and run.process.poll() is None, "a broken fix must not end the run"
    assert [e for e in run.events() if e["event"] == "patch"][-1]["ok"] is False
    run.snippet("raise ValueError('this snippet is broken')\n", name="broken.py")
    time.sleep(0.3)
    assert run.process.poll() is None
    run.patch("value = value / (divisor", "value = value / 2")
    code, out, err = run.finish()
    assert code == 0, err
    assert "fix not applied" in err and "snippet raised ValueError" in err
    assert out == run_plain(fixed_copy(run, tmp_path, [("value / (divisor", "value / 2")])).stdout


def test_failed_snippet_leaves_the_state_intact(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    run.snippet("total = -1000\nraise RuntimeError('halfway')\n", name="a.py")
    time.sleep(0.3)
    run.snippet("divisor = 4\n", name="b.py")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(fixed_copy(run, tmp_path, [("value / divisor", "value / 4")])).stdout


TWO_BUGS = """
    def train():
        results = []
        for step in range(6):
            if step == 2:
                results.append(first_missing)
            if step == 4:
                results.append(1 / zero)
            results.append(step)
            print("step", step, results, flush=True)
        return results

    print("final", train())
"""


def test_repeated_crashes_each_wait_for_their_fix(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": TWO_BUGS}).start()
    run.wait_waiting(count=1)
    run.snippet("first_missing = 'a'\n", name="one.py")
    run.wait_waiting(count=2)
    crashes = [e for e in run.events() if e["event"] == "crash"]
    assert crashes[-1]["exception"] == "NameError"
    run.snippet("zero = 2\n", name="two.py")
    code, out, err = run.finish()
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "final [0, 1, 'a', 2, 3, 0.5, 4, 5]"
    events = [e["event"] for e in run.events() if not e["event"].endswith("checkpoint")]
    assert events == ["crash", "action", "resume", "crash", "action", "resume"]


def test_maximum_wait_lets_the_original_exception_propagate(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}, env={"DAIFU_MAX_WAIT": "0.3"}).start()
    code, out, err = run.finish()
    plain = run_plain(run.src)
    assert code == plain.returncode == 1
    assert out == plain.stdout
    assert err.strip().splitlines()[-1] == plain.stderr.strip().splitlines()[-1]
    assert "maximum wait reached" in err
    assert run.events()[-1]["event"] == "give-up"


def test_snippet_can_give_up_or_skip(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    run.snippet("daifu.skip()\n")
    code, out, err = run.finish()
    assert code == 0, err
    # step 5 skipped the failing statement: value keeps 5 * 2, so the total goes 20 -> 30
    assert "step 5 30" in out
    run2 = Run(tmp_path / "second", {"main.py": LOOP}).start()
    run2.wait_waiting()
    run2.snippet("daifu.give_up()\n")
    code2, _out2, err2 = run2.finish()
    assert code2 == 1 and err2.strip().splitlines()[-1].startswith("NameError")


HANDLED = """
    def risky(step):
        if step % 3 == 0:
            raise ValueError(f"bad step {step}")
        return step

    def train():
        done = []
        for step in range(7):
            try:
                done.append(risky(step))
            except ValueError as exc:
                done.append(str(exc))
        return done

    def outer():
        for attempt in range(2):
            try:
                return inner(attempt)
            except KeyError:
                print("caller handled KeyError", attempt)

    def inner(attempt):
        for _ in range(1):
            if attempt == 0:
                raise KeyError(attempt)
            return "ok"

    print(train())
    print(outer())
    print(sorted([3, 1, 2], key=lambda v: -v))
"""


def test_exceptions_the_program_handles_are_never_intercepted(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": HANDLED}, env={"DAIFU_MAX_WAIT": "30"}, policy="all").start()
    code, out, err = run.finish(timeout=20)
    assert code == 0, err
    assert out == run_plain(run.src).stdout
    assert not run.events(), run.events()


TRANSIENT = """
    import errno, os

    def read_shard(step):
        marker = ".fault-" + str(step)
        if step == 3 and FAULTS and not os.path.exists(marker):
            if FAULTS == 1:
                open(marker, "w").close()
            raise OSError(errno.EIO, "Input/output error", "shard-3")
        return step * 10

    FAULTS = int(os.environ.get("FAULTS", "1"))
    total = 0
    for step in range(6):
        total += read_shard(step)
        print("step", step, total, flush=True)
    print("final", total)
"""


def test_transient_fault_is_retried_without_a_human(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": TRANSIENT}).start()
    code, out, err = run.finish(timeout=30)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "final 150"
    policy = [e for e in run.events() if e["event"] == "policy"]
    assert policy and policy[0]["policy"] == "transient"
    assert "transient OSError" in err


def test_transient_budget_spent_escalates_to_waiting(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": TRANSIENT}, env={"FAULTS": "2"}).start()
    run.wait_waiting()
    assert len([e for e in run.events() if e["event"] == "policy"]) == 3
    run.snippet("FAULTS = 0\n")
    code, out, err = run.finish()
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "final 150"


LOOP_HEADER = """
    class Batches:
        def __init__(self):
            self.i = 0
        def __iter__(self):
            return self
        def __next__(self):
            self.i += 1
            if self.i > 6:
                raise StopIteration
            if self.i == 3 and not FIXED:
                raise RuntimeError("corrupt batch 3")
            return self.i

    FIXED = False
    seen = []
    for batch in Batches():
        seen.append(batch)
        print("batch", batch, flush=True)
    print("final", seen)
"""


def test_crash_in_a_loop_header_retries_next_on_the_same_iterator(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP_HEADER}).start()
    state = run.wait_waiting()
    assert state["line"] == 16
    run.snippet("FIXED = True\n")
    code, out, err = run.finish()
    assert code == 0, err
    # the iterator already counted item 3 when it raised: the retry takes item 4
    assert out.strip().splitlines()[-1] == "final [1, 2, 4, 5, 6]"
    assert "iterator raised while producing the next item" in err


def test_console_on_a_terminal(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}, env={"DAIFU_CONSOLE": "auto"})
    master, slave = pty.openpty()
    run.start(stdin=slave)
    os.close(slave)
    run.wait_waiting()
    transcript = _talk(master, run, ["p total", "exec divisor = 4", "p divisor", "retry"])
    code, out, err = run.finish()
    os.close(master)
    assert code == 0, err
    assert "(daifu) " in err
    assert "(daifu) 20\n" in err, (err, transcript)  # p total
    assert out == run_plain(fixed_copy(run, tmp_path, [("value / divisor", "value / 4")])).stdout


def _talk(master: int, run: Run, commands: list[str]) -> str:
    transcript = ""
    for command in commands:
        os.write(master, (command + "\n").encode())
        time.sleep(0.2)
        while select.select([master], [], [], 0.05)[0]:
            try:
                transcript += os.read(master, 4096).decode(errors="replace")
            except OSError:
                break
    return transcript


def test_daifu_attach_from_another_process(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    attach = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "attach", str(run.out)],
        input="vars\np step\nexec divisor = 4\nretry\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert attach.returncode == 0, attach.stderr
    assert "NameError" in attach.stdout and "Variables of train()" in attach.stdout
    assert "(daifu) 5\n" in attach.stdout  # p step
    assert "changed: divisor" in attach.stdout and "retrying" in attach.stdout
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(fixed_copy(run, tmp_path, [("value / divisor", "value / 4")])).stdout


def test_status_shows_a_waiting_run(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": LOOP}).start()
    run.wait_waiting()
    status = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "status", str(run.out)], capture_output=True, text=True, timeout=30
    )
    assert "waiting" in status.stdout and "NameError" in status.stdout and "train()" in status.stdout
    run.snippet("divisor = 1\n")
    assert run.finish()[0] == 0
    status = subprocess.run(
        [sys.executable, "-m", "daifu_cli", "status", str(run.out), "--json"], capture_output=True, text=True, timeout=30
    )
    assert '"resume"' in status.stdout


TORCH_TRAIN = """
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def batch(step):
        g = torch.Generator().manual_seed(step)
        x = torch.randn(32, 8, generator=g)
        return x, (x.sum(1) > 0).long()

    def evaluate():
        with torch.no_grad():
            x, y = batch(-1)
            logits = model(x.T)
            return (logits.argmax(1) == y).float().mean().item()

    for step in range(60):
        x, y = batch(step)
        with torch.autocast("cpu", enabled=False):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 24:
            print(step, round(loss.item(), 6), evaluate(), flush=True)
    torch.save(model.state_dict(), "weights.pt")
    print("final", sum(p.double().sum().item() for p in model.parameters()))
"""


@pytest.mark.slow
@requires_torch
def test_torch_training_recovers_to_bit_identical_weights(tmp_path: Path) -> None:
    import torch

    run = Run(tmp_path, {"main.py": TORCH_TRAIN}).start()
    state = run.wait_waiting(timeout=120)
    assert state["exception"] == "RuntimeError"
    run.patch("logits = model(x.T)", "logits = model(x)")
    code, out, err = run.finish(timeout=300)
    assert code == 0, err
    reference = run_plain(run.src)
    assert out == reference.stdout
    recovered = torch.load(run.out / "weights.pt")
    expected = torch.load(run.src / "weights.pt")
    assert all(torch.equal(recovered[k], expected[k]) for k in expected)


OOM = """
    import torch

    def allocate(rows):  # stands in for a CUDA allocation that does not fit
        if rows > 64:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return torch.ones(rows, 4)

    batch_size = 128
    seen = []
    for step in range(4):
        x = allocate(batch_size)
        seen.append(int(x.sum().item()))
    print("final", seen, batch_size)
"""

HOOK = """
    def halve(ctx):
        ctx.batch_size = ctx.batch_size // 2
        print("hook halved the batch to", ctx.batch_size, flush=True)
"""


@requires_torch
def test_out_of_memory_policy_frees_memory_calls_the_hook_and_retries(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "pyproject.toml").write_text('[tool.daifu.runtime]\noom-hook = "hooks:halve"\n')
    run = Run(tmp_path, {"main.py": OOM, "hooks.py": HOOK}).start()
    code, out, err = run.finish(timeout=120)
    assert code == 0, err
    assert "hook halved the batch to 64" in out
    assert out.strip().splitlines()[-1] == "final [256, 256, 256, 256] 64"
    assert any(e["event"] == "policy" and e["policy"] == "oom" for e in run.events())


NO_GRAD = """
    import torch

    @torch.no_grad()
    def evaluate(x):
        for _ in range(2):
            score = x.mean(dim=1)
        return score.item()

    print("score", evaluate(torch.ones(3)))
"""


@requires_torch
def test_a_crash_under_torch_no_grad_decorator_is_intercepted(tmp_path: Path) -> None:
    """torch's decorator wraps the call in `with self.clone():`; the manager it builds
    (found through the bound method) does not suppress, so the crash is not handled."""
    run = Run(tmp_path, {"main.py": NO_GRAD}).start()
    state = run.wait_waiting(timeout=120)
    assert state["exception"] == "IndexError" and state["function"] == "evaluate"
    run.snippet("x = x.unsqueeze(0)\n")
    code, out, err = run.finish(timeout=120)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "score 1.0"


@pytest.mark.slow
@requires_torch
def test_a_just_in_time_checkpoint_is_saved_before_waiting(tmp_path: Path) -> None:
    import torch

    run = Run(tmp_path, {"main.py": TORCH_TRAIN}).start()
    run.wait_waiting(timeout=120)
    saved = [e for e in run.events() if e["event"] == "jit-checkpoint"]
    assert len(saved) == 1
    assert os.stat(saved[0]["path"]).st_mode & 0o777 == 0o600  # it holds the model; loading it runs pickle
    payload = torch.load(saved[0]["path"], weights_only=False)
    assert set(payload["states"]) == {"model", "optimizer"}
    assert payload["numbers"]["step"] == 24  # the crash is in the evaluation after step 24
    run.snippet("daifu.give_up()\n")
    code, _, err = run.finish(timeout=120)
    assert code == 1 and "RuntimeError" in err.strip().splitlines()[-1]
    # a restart loads the state from the moment of the crash
    sys.path.insert(0, str(run.out))
    try:
        from _daifu_shim import jit
    finally:
        sys.path.pop(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    numbers = jit.load(saved[0]["path"], model=model, optimizer=optimizer)
    assert numbers["step"] == 24
    assert torch.equal(model[0].weight, payload["states"]["model"]["state"]["0.weight"])


RESUMED_THEN_FAILS = """
    import contextlib

    def helper(v):
        return 10 / v

    def train():
        total = 0
        for step in range(4):
            with contextlib.nullcontext():
                total += first_missing
            total += helper(2 - step)
        return total

    print("final", train())
"""


def test_a_crash_given_up_in_resumed_code_shows_the_users_traceback(tmp_path: Path) -> None:
    """The traceback of an exception that propagates from resumed code is the one the fixed
    program shows: the user's files and lines, without the shim's frames, the continuation
    (``<daifu resume N>``) or the crashed function's frame it runs under."""
    run = Run(tmp_path, {"main.py": RESUMED_THEN_FAILS}).start()
    run.wait_waiting(count=1)
    run.snippet("first_missing = 1\n", name="one.py")
    run.wait_waiting(count=2)
    run.snippet("daifu.give_up()\n", name="two.py")
    code, _out, err = run.finish()
    fixed = fixed_copy(run, tmp_path, [("total = 0", "total = 0; first_missing = 1")])
    plain = run_plain(fixed)
    assert code == plain.returncode == 1
    shown = err[err.index("Traceback (most recent call last)") :]
    assert shown == plain.stderr[plain.stderr.index("Traceback") :].replace(str(fixed), str(run.src))


WARNS_AFTER_THE_CRASH = """
    import warnings

    def train():
        total = 0
        for step in range(3):
            total += 1 / (step - 1)
            warnings.warn(f"step {step}")
        return total

    print("final", train())
"""


def test_warnings_name_the_users_lines_before_and_after_a_fix_that_moves_them(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": WARNS_AFTER_THE_CRASH}).start()
    run.wait_waiting()
    fix = "        # two lines more\n        # above the warning\n        total += 1 / max(step - 1, 1)\n"
    assert run.patch("        total += 1 / (step - 1)\n", fix) == ["main.py"]
    code, _out, err = run.finish()
    assert code == 0, err
    shown = [line for line in err.splitlines() if "UserWarning" in line]
    user = run.src / "main.py"
    assert shown == [
        f"{user}:7: UserWarning: step 0",  # before the fix, in the file as it was
        f"{user}:9: UserWarning: step 1",  # resumed with the fixed code: the fixed file's line
        f"{user}:9: UserWarning: step 2",
    ]
