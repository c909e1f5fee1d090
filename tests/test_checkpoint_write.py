"""How checkpoints are written: at a crash the just-in-time checkpoint and the process
checkpoint share one payload (the tensors written once); SIGUSR1's checkpoint is taken at the
safe point and written in the background while the program changes its tensors."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import crash_checkpoint_and_terminate, daifu_resume

torch = pytest.importorskip("torch")

TRAIN_CLASS = """
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(256, 256)

    def forward(self, x):
        return self.lin(x)


def train(steps):
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for step in range(steps):
        loss = net(torch.randn(8, 256)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        print("step", step, round(loss.item() / (step - 3), 6), flush=True)
    return net


print("weights", round(train(6).lin.weight.sum().item(), 4))
"""


def test_a_crash_writes_the_tensors_once_for_both_checkpoints(tmp_path: Path) -> None:
    """One file holds both: the JIT event names the process checkpoint's payload, no second
    copy of the model is written, `jit.load` reads it in a program without the crashed
    program's classes, and `daifu resume` resumes from it."""
    run = Run(tmp_path, {"main.py": TRAIN_CLASS})
    checkpoint, before = crash_checkpoint_and_terminate(run)
    (jit_event,) = [e for e in run.events() if e["event"] == "jit-checkpoint"]
    meta = json.loads(checkpoint.read_text())
    payload = checkpoint.with_name(meta["payload"])
    assert (
        jit_event["saved"] is True and jit_event["path"] == str(payload) and payload.suffix == ".pt"
    )
    assert jit_event["shared_with"] == str(checkpoint)
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == sorted(
        [checkpoint.name, payload.name]
    )
    # weights, their gradients (a resume between backward and step needs them) and Adam's
    # two moments, once: 4 x 257 x 256 floats, not the state dicts' three again
    tensor_bytes = 4 * 257 * 256 * 4
    assert tensor_bytes < payload.stat().st_size < 1.3 * tensor_bytes
    sys.path.insert(0, str(run.out))
    try:
        from _daifu_shim import jit
    finally:
        sys.path.pop(0)
    net = torch.nn.Module()  # this process has no class Net
    net.lin = torch.nn.Linear(256, 256)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    assert jit.load(payload, net=net, opt=opt) == {"steps": 6, "step": 3}
    assert len(opt.state) == 2  # Adam's moments came back too
    fix = ("loss.item() / (step - 3)", "loss.item() / (step - 3 or 1)")
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert before + resumed.stdout == fixed.stdout


CALLED_BY_A_LIBRARY = """
import ast

import torch

net = torch.nn.Linear(4, 2)


class Counter(ast.NodeVisitor):
    def visit_Module(self, node):
        for i, stmt in enumerate(node.body):
            print("visit", i, float(net.weight.sum()) / (i - 1), flush=True)


Counter().visit(ast.parse("a = 1\\nb = 2\\nc = 3"))
"""


def test_without_a_process_checkpoint_the_jit_checkpoint_is_written_alone(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": CALLED_BY_A_LIBRARY}).start()
    try:
        run.wait_waiting()
        events = {e["event"]: e for e in run.events()}
        assert events["process-checkpoint"]["saved"] is False
        path = Path(events["jit-checkpoint"]["path"])
        assert events["jit-checkpoint"]["saved"] is True and path.suffix == ".pt"
        assert [p.name for p in path.parent.iterdir()] == [path.name]
        assert set(torch.load(path, weights_only=False)["states"]) == {"net"}
        run.snippet("daifu.skip()\n")
        code, _, err = run.finish()
    finally:
        run.kill()
    assert code == 0, err


CHANGES_ITS_TENSOR = """
import os
import signal

import torch

weights = torch.zeros(8_000_000)


def train(steps):
    for step in range(steps):
        weights.add_(1.0)
        print("step", step, float(weights[0]), float(weights[-1]), flush=True)
        if step == 3:
            os.kill(os.getpid(), signal.SIGUSR1)


train(40)
"""
KILL = "os.kill(os.getpid(), signal.SIGUSR1)"


def test_sigusr1_writes_the_state_of_the_safe_point_while_the_program_runs_on(
    tmp_path: Path,
) -> None:
    """The program goes on adding to its 32 MB tensor while the checkpoint is written in the
    background: what is written is the state at the safe point (resuming it prints exactly
    what the uninterrupted run printed after that point), and the program's end waits for
    the write."""
    run = Run(tmp_path, {"main.py": CHANGES_ITS_TENSOR})
    # without daifu, SIGUSR1 would end the program: the uninterrupted run has no signal
    plain = run_plain(fixed_copy(run, tmp_path, [(KILL, "pass")])).stdout
    run.start()
    code, out, err = run.finish()
    assert code == 0 and out == plain, err
    assert "written in the background" in err, err
    (checkpoint,) = (run.out / ".daifu" / "jit").glob("*sigusr1*.json")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "".join(plain.splitlines(keepends=True)[4:])


def test_sigterm_while_a_background_write_runs_ends_with_both_checkpoints(tmp_path: Path) -> None:
    """SIGTERM waits for the write in flight, then writes its own before the process ends."""
    program = CHANGES_ITS_TENSOR.replace(
        "            os.kill(os.getpid(), signal.SIGUSR1)",
        "            os.kill(os.getpid(), signal.SIGUSR1)\n        if step == 5:\n            os.kill(os.getpid(), signal.SIGTERM)",
    )
    run = Run(tmp_path, {"main.py": program}).start()
    code, out, err = run.finish()
    assert code == -signal.SIGTERM, err
    assert (
        "daifu: SIGUSR1: process checkpoint" in err and "daifu: SIGTERM: process checkpoint" in err
    ), err
    names = sorted(p.name for p in (run.out / ".daifu" / "jit").iterdir())
    assert not [n for n in names if n.endswith(".partial")], names
    (checkpoint,) = (run.out / ".daifu" / "jit").glob("*sigterm*.json")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    plain = run_plain(
        fixed_copy(
            run, tmp_path, [(KILL, "pass"), ("os.kill(os.getpid(), signal.SIGTERM)", "pass")]
        )
    )
    assert out + resumed.stdout == plain.stdout


def test_a_second_sigusr1_while_one_is_written_is_skipped_and_said(tmp_path: Path) -> None:
    """Requests in consecutive steps: the first one's 256 MB is still being written at the
    next step's safe point (safe points in a loop are its headers; two signals before one
    safe point are one request), which writes nothing and says so; the run goes on."""
    program = CHANGES_ITS_TENSOR.replace("torch.zeros(8_000_000)", "torch.zeros(64_000_000)").replace(
        "        if step == 3:", "        if step in (3, 4):"
    )
    run = Run(tmp_path, {"main.py": program}).start()
    code, out, err = run.finish()
    assert code == 0, err
    assert "daifu: SIGUSR1: a checkpoint is still being written; this request is skipped" in err, (
        err
    )
    assert len(list((run.out / ".daifu" / "jit").glob("*sigusr1*.json"))) == 1
    assert out.count("step") == 40


BETWEEN_FORWARD_AND_BACKWARD = """
import torch

torch.manual_seed(0)


def train():
    net = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(4):
        loss = net(torch.ones(3, 4)).pow(2).mean()
        scale = 1.0 / (step - 2)
        (loss * scale).backward()
        opt.step()
        opt.zero_grad()
        print(step, round(net.weight.sum().item(), 6), flush=True)


train()
"""


def test_a_loss_whose_backward_is_pending_is_named_and_never_silently_cut_off(
    tmp_path: Path,
) -> None:
    """The crash comes between the forward pass and the backward: the loss's autograd graph
    cannot be saved. Restored as a leaf, the backward would miss the model and the run would
    go on with other weights, silently; it is saved detached and named, and since a backward
    is still to come in that step, the resume is refused before anything runs."""
    run = Run(tmp_path, {"main.py": BETWEEN_FORWARD_AND_BACKWARD})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    meta = json.loads(checkpoint.read_text())
    assert any(
        item.startswith("loss (frame 0): its autograd graph cannot be saved")
        for item in meta["lost"]
    ), meta["lost"]
    run.patch("1.0 / (step - 2)", "1.0 / (step - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2 and resumed.stdout == "", (resumed.stdout, resumed.stderr)
    assert (
        "train(): it stopped between a forward pass and its backward: loss held an autograd graph"
        in resumed.stderr
    ), resumed.stderr
