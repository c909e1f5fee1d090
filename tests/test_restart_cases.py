"""The correctness cases of issue 12: deterministic CPU training programs, each stopped at a
step in a real subprocess (a bug, or SIGTERM as a scheduler sends it), checkpointed, fixed,
and resumed by `daifu resume` in a new process. What the two processes print together (every
loss, then the SHA-256 of the final weights) equals the fixed program run from scratch
without daifu, bit for bit: nothing redone, nothing lost, the same random numbers."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import crash_checkpoint_and_terminate, daifu_resume

torch = pytest.importorskip("torch")

#: The end of every program: a digest of the exact bytes of every parameter.
DIGEST = """
def digest(model):
    import hashlib

    return hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()
"""


def crash_fix_resume(
    tmp_path: Path, files: dict[str, str], fix: tuple[str, str], file: str = "main.py"
) -> tuple[str, str]:
    """Crash, checkpoint, end the process, fix, resume in a new process; compare with the
    fixed program run from scratch. What each process printed."""
    run = Run(tmp_path, files)
    checkpoint, before = crash_checkpoint_and_terminate(run)
    run.patch(*fix, file=file)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix], file=file))
    assert fixed.returncode == 0, fixed.stderr
    assert before + resumed.stdout == fixed.stdout
    assert "weights " in resumed.stdout and "weights " not in before
    return before, resumed.stdout


def terminate_and_resume(tmp_path: Path, files: dict[str, str]) -> tuple[str, str]:
    """SIGTERM once the program says it is past its first steps; resume the checkpoint it
    writes at the next statement boundary; compare with an uninterrupted run."""
    run = Run(tmp_path, files)
    plain = run_plain(run.src)
    assert plain.returncode == 0, plain.stderr
    run.start()
    assert run.process is not None and run.process.stderr is not None
    assert run.process.stderr.readline().strip() == "ready"
    run.process.send_signal(signal.SIGTERM)
    code, before, err = run.finish()
    assert code == -signal.SIGTERM, err
    assert "daifu: SIGTERM: process checkpoint" in err, err
    checkpoint = next((run.out / ".daifu" / "jit").glob("*sigterm*.json"))
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert before + resumed.stdout == plain.stdout
    assert "weights " in resumed.stdout and "weights " not in before
    return before, resumed.stdout


# (a) a script-level loop whose program execs a configuration file into its globals first -----

CONFIG = """
lr = 0.05
momentum = 0.9
steps = 8
batch = 16
"""

SCRIPT_WITH_CONFIG = """
import torch
from torch import nn

lr = 0.1
momentum = 0.0
steps = 4
batch = 8
exec(open("config.py").read())  # nanoGPT's configurator: the file's values replace these

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
for step in range(steps):
    x = torch.randn(batch, 8)
    y = x.sum(dim=1, keepdim=True)
    loss = (model(x) - y).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    per_sample = loss.item() / (step - 4)
    print("step", step, repr(loss.item()), flush=True)
print("weights", digest(model))
"""


def test_a_script_level_loop_configured_by_exec(tmp_path: Path) -> None:
    program = SCRIPT_WITH_CONFIG.replace("torch.manual_seed(0)", DIGEST + "\ntorch.manual_seed(0)")
    before, after = crash_fix_resume(
        tmp_path, {"main.py": program, "config.py": CONFIG}, ("(step - 4)", "(step - 4 or 1)")
    )
    assert before.count("step") == 4 and after.count("step") == 4  # steps of the config: 8


# (b) nested epoch and batch loops in a function ------------------------------------------------

NESTED_LOOPS = (
    DIGEST
    + """
import torch
from torch import nn


def train(model, optimizer, data, targets, epochs, batch):
    for epoch in range(epochs):
        order = torch.randperm(len(data))
        for start in range(0, len(data), batch):
            index = order[start:start + batch]
            loss = nn.functional.mse_loss(model(data[index]), targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            print("epoch", epoch, "batch", start // batch, repr(loss.item()), flush=True)
            if epoch == 1 and start == 2 * batch:
                print("ready", file=__import__("sys").stderr, flush=True)
                __import__("time").sleep(0.5)
        shown = round(loss.item(), 4) / (epoch - 1)
    return model


torch.manual_seed(0)
data = torch.randn(64, 6)
targets = data @ torch.randn(6, 2)
model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
train(model, optimizer, data, targets, 3, 16)
print("weights", digest(model))
"""
)


def test_nested_epoch_and_batch_loops_crash_at_an_epoch_end(tmp_path: Path) -> None:
    before, after = crash_fix_resume(
        tmp_path, {"main.py": NESTED_LOOPS}, ("(epoch - 1)", "(epoch - 1 or 1)")
    )
    assert before.count("epoch 1 ") == 4 and "epoch 2 " in after


def test_nested_epoch_and_batch_loops_preempted_mid_epoch(tmp_path: Path) -> None:
    fixed = NESTED_LOOPS.replace("(epoch - 1)", "(epoch - 1 or 1)")
    before, after = terminate_and_resume(tmp_path, {"main.py": fixed})
    assert "epoch 1 batch 2 " in before and "epoch 2 batch 0 " in after


# (c) a crash inside a helper called from the loop (two vaccinated frames) -------------------------

HELPER = (
    DIGEST
    + """
import torch
from torch import nn


def accumulate(model, x, y, parts):
    total = 0.0
    for px, py in zip(x.chunk(parts), y.chunk(parts)):
        loss = nn.functional.mse_loss(model(px), py) / parts
        loss.backward()
        total += loss.item()
    scale = total / (len(y) - 24)
    return total


def train(model, optimizer, steps):
    for step in range(steps):
        x = torch.randn(8 + 4 * step, 5)
        y = x[:, :1] * 3 - 1
        optimizer.zero_grad()
        total = accumulate(model, x, y, 2)
        optimizer.step()
        print("step", step, repr(total), flush=True)


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
train(model, optimizer, 7)
print("weights", digest(model))
"""
)


def test_a_crash_in_a_helper_two_frames_deep(tmp_path: Path) -> None:
    before, after = crash_fix_resume(
        tmp_path, {"main.py": HELPER}, ("(len(y) - 24)", "(len(y) - 24 or 1)")
    )
    assert before.count("step") == 4 and after.count("step") == 3  # step 4 has 24 rows


# (d) `with` blocks in the loop: autocast for training, no_grad for evaluation ----------------------

WITH_BLOCKS = (
    DIGEST
    + """
import torch
from torch import nn


def train(model, optimizer, steps):
    for step in range(steps):
        x = torch.randn(16, 4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x = x + 0.01 / (step - 3)
            out = model(x)  # bfloat16: the resumed block runs under autocast too
            loss = (out.float() - x[:, :1]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            data = torch.randn(8 + 8 * step, 4)
            weight = 1 / (len(data) - 32)
            out = model(data)
            error = nn.functional.mse_loss(out, data[:, :1]).item()
        # requires_grad False: the resumed block runs under no_grad too
        print("step", step, repr(loss.item()), repr(error), out.requires_grad, flush=True)


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
train(model, optimizer, 6)
print("weights", digest(model))
"""
)


def test_a_crash_inside_autocast_resumes_under_autocast(tmp_path: Path) -> None:
    program = WITH_BLOCKS.replace("(len(data) - 32)", "(len(data) - 32 or 1)")
    before, _ = crash_fix_resume(tmp_path, {"main.py": program}, ("(step - 3)", "(step - 3 or 1)"))
    assert before.count("step") == 3


def test_a_crash_inside_no_grad_evaluation_resumes_without_grad(tmp_path: Path) -> None:
    program = WITH_BLOCKS.replace("(step - 3)", "(step - 3 or 1)")
    before, _ = crash_fix_resume(
        tmp_path, {"main.py": program}, ("(len(data) - 32)", "(len(data) - 32 or 1)")
    )
    assert before.count("step") == 3  # step 3 evaluates 32 rows


# preempted between forward and backward: the checkpoint waits for the end of the step ---------------

MID_STEP = (
    DIGEST
    + """
import sys
import time

import torch
from torch import nn


def train(model, optimizer, steps):
    for step in range(steps):
        x = torch.randn(16, 3)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        if step == 3:
            print("ready", file=sys.stderr, flush=True)
            time.sleep(1)  # SIGTERM lands here: the loss holds its autograd graph
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print("step", step, repr(loss.item()), flush=True)


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
train(model, optimizer, 6)
print("weights", digest(model))
"""
)


def test_preempted_between_forward_and_backward_checkpoints_at_the_next_step(
    tmp_path: Path,
) -> None:
    """An autograd graph cannot be saved: the checkpoint is written when the loop around the
    signalled statement comes back to its header (the step done), not between forward and
    backward."""
    before, _ = terminate_and_resume(tmp_path, {"main.py": MID_STEP})
    assert (
        before.count("step") == 4 and "step 3 " in before
    )  # step 3 finished before the checkpoint


# a loop whose iterator pickle cannot save is refused, not restarted ---------------------------------

GENERATED = """
import torch

torch.manual_seed(0)


def batches(n):
    for _ in range(n):
        yield (torch.randn(8, 3),)


def train():
    for epoch in range(2):
        for i, (x,) in enumerate(batches(5)):
            s = x.sum().item() / (i - 2)
            print(epoch, i, round(s, 4), flush=True)


train()
"""


def test_a_running_loop_over_a_generator_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A generator's frame cannot be saved: its loop is not in the checkpoint. Resuming would
    finish the interrupted batch, then find no iterator (before, it ended so, with
    UnboundLocalError). (A DataLoader's iterator is saved: tests/test_restart_data.py.)"""
    run = Run(tmp_path, {"main.py": GENERATED})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    run.patch("(i - 2)", "(i - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert (
        "daifu: not in the checkpoint: _daifu_it_L13 (frame 0): enumerate cannot be saved"
        in resumed.stderr
    )
    assert (
        "daifu: cannot resume: train(): the loop `for i, (x,) in enumerate(batches(5))` (line 13) "
        "goes on with its iterator, which is not in the checkpoint: enumerate cannot be saved "
        "(TypeError: cannot pickle 'generator' object)" in resumed.stderr
    ), resumed.stderr
    assert resumed.stdout == ""


NANOGPT_STYLE = """
from contextlib import nullcontext

import torch
from torch import nn

device_type = "cpu"
exec(open("config.py").read())
ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=torch.bfloat16)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
for step in range(steps):
    x = torch.randn(batch, 8)
    with ctx:
        scale = 1.0 / (step - 4)
        loss = (model(x) - x.sum(dim=1, keepdim=True)).pow(2).mean() * scale
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("step", step, repr(loss.item()), flush=True)
print("weights", digest(model))
"""


def test_a_script_level_with_ctx_as_nanogpt_writes_it(tmp_path: Path) -> None:
    """`ctx = nullcontext()` (or autocast), `with ctx:` around the forward, at script level."""
    program = NANOGPT_STYLE.replace("torch.manual_seed(0)", DIGEST + "\ntorch.manual_seed(0)")
    before, _ = crash_fix_resume(
        tmp_path,
        {"main.py": program, "config.py": CONFIG},
        ("1.0 / (step - 4)", "1.0 / (step - 4 or 1)"),
    )
    assert before.count("step") == 4


# (h) an optimizer class of the program's own, with attributes of its own ----------------------

LOOKAHEAD = (
    DIGEST
    + """
import torch
from torch import nn


class Lookahead(torch.optim.Optimizer):
    \"\"\"A wrapper optimizer as many projects write one: its own attributes beside torch's.\"\"\"

    def __init__(self, base, k=3, alpha=0.5):
        self.base, self.k, self.alpha, self.count = base, k, alpha, 0
        super().__init__(base.param_groups, base.defaults)
        self.slow = [[p.detach().clone() for p in group["params"]] for group in self.param_groups]

    def step(self, closure=None):
        self.base.step()
        self.count += 1
        if self.count % self.k == 0:
            for group, slow in zip(self.param_groups, self.slow):
                for p, q in zip(group["params"], slow):
                    q.add_(p.detach() - q, alpha=self.alpha)
                    p.data.copy_(q)


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 1))
optimizer = Lookahead(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
for step in range(10):
    x = torch.randn(16, 6)
    loss = (model(x) - x.sum(dim=1, keepdim=True)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    shown = loss.item() / (step - 4)
    print("step", step, repr(loss.item()), optimizer.count, flush=True)
print("weights", digest(model))
"""
)


def test_an_optimizer_of_the_programs_own_keeps_its_attributes(tmp_path: Path) -> None:
    """torch's Optimizer pickles three fields only: before, the resumed Lookahead had lost
    ``base``, ``k``, ``count`` and its slow weights (AttributeError at its next step)."""
    before, after = crash_fix_resume(tmp_path, {"main.py": LOOKAHEAD}, ("(step - 4)", "(step - 4 or 1)"))
    assert before.count("step") == 4 and after.count("step") == 6


# (i) an LR scheduler on the optimizer: it wraps the optimizer's `step` on the instance ---------

SCHEDULED = (
    DIGEST
    + """
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
for step in range(8):
    x = torch.randn(16, 6)
    loss = (model(x) - x.sum(dim=1, keepdim=True)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    shown = loss.item() / (step - 3)
    print("step", step, repr(loss.item()), scheduler.get_last_lr(), flush=True)
print("weights", digest(model))
"""
)


def test_an_optimizer_with_a_scheduler_is_saved_and_steps_on(tmp_path: Path) -> None:
    """The scheduler's wrapper of ``optimizer.step`` is an instance attribute pickle cannot
    save: it is made again on load, not taken for state (which lost the whole optimizer)."""
    before, after = crash_fix_resume(tmp_path, {"main.py": SCHEDULED}, ("(step - 3)", "(step - 3 or 1)"))
    assert before.count("step") == 3 and after.count("step") == 5


# (j) lambdas, closures, nested defs and local imports: state a function made before the crash --

LOCAL_FUNCTIONS = (
    DIGEST
    + """
import torch
from torch import nn


def train(warmup, steps):
    import math  # a local import: the resumed function has no reason to run it again

    schedule = lambda step: min(1.0, (step + 1) / warmup)  # noqa: E731 (as projects write it)

    def noisy(x, scale=0.1):
        return x + scale * torch.randn_like(x)

    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    for step in range(steps):
        x = noisy(torch.randn(16, 6))
        loss = (model(x) - x.sum(dim=1, keepdim=True)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        shown = math.sqrt(loss.item()) / (step - 3)
        print("step", step, repr(loss.item()), scheduler.get_last_lr(), schedule(step), flush=True)
    return model


torch.manual_seed(0)
warmup_of = lambda n: n // 2  # noqa: E731: a lambda at module level, used after the crash
model = train(warmup_of(8), 8)
print("weights", digest(model), warmup_of(10))
"""
)


def test_lambdas_closures_and_local_imports_come_back(tmp_path: Path) -> None:
    """Before: a function's local lambda, nested def and import were left out of the
    checkpoint, without a word (UnboundLocalError on resume), and a LambdaLR over a lambda
    could not be saved at all (its scheduler lost)."""
    before, after = crash_fix_resume(tmp_path, {"main.py": LOCAL_FUNCTIONS}, ("(step - 3)", "(step - 3 or 1)"))
    assert before.count("step") == 3 and after.count("step") == 5
