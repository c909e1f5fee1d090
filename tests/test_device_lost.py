"""A CUDA error that poisons the context (an illegal memory access, a device-side assert) is
not waited for: daifu saves what host memory holds, names what is lost, and ends the process
(status 1), so that the person fixes the cause and runs `daifu resume`.

No GPU here, so the real CUDA path is NOT tested: the programs below raise the exception torch
raises for such an error (``torch.AcceleratorError``, with the message torch builds in
``c10/cuda/CUDAException.cpp``) from ordinary Python, and their tensors are on the CPU. What is
tested is the recognition (in a real subprocess), the host-only checkpoint and a resume from
it; leaving out values that hold GPU tensors is tested with ``meta`` tensors, which are off the
host for the same code (``restart._drop_off_host`` told to keep only ``cpu``). Whether reading
a tensor's ``device`` and skipping it is enough on a real poisoned context is for a GPU run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daifu_cli.runtime.device_lost import lost_context
from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import daifu_resume

torch = pytest.importorskip("torch")

#: What torch's CUDA check says for cudaErrorIllegalAddress (the suffix lines as torch 2.x adds them).
ILLEGAL_ACCESS = (
    "CUDA error: an illegal memory access was encountered\n"
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below "
    "might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n"
    "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n"
)


@pytest.mark.parametrize("exc", [
    torch.AcceleratorError(ILLEGAL_ACCESS),
    torch.AcceleratorError("CUDA error: device-side assert triggered\nCompile with `TORCH_USE_CUDA_DSA` ..."),
    RuntimeError("CUDA error: unspecified launch failure\n"),  # torch before AcceleratorError
    RuntimeError("HIP error: an illegal memory access was encountered\n"),  # ROCm
    RuntimeError("Triton Error [CUDA]: misaligned address"),
])
def test_errors_that_poison_the_context_are_recognized(exc: BaseException) -> None:
    assert lost_context(exc) is not None


@pytest.mark.parametrize("exc", [
    torch.AcceleratorError("CUDA error: out of memory\n"),  # a raw allocation failure: the context is fine
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    torch.AcceleratorError("CUDA error: invalid argument\n"),
    torch.AcceleratorError("CUDA error: no kernel image is available for execution on the device\n"),
    torch.AcceleratorError("CUDA error: too many resources requested for launch\n"),
    ValueError("CUDA error: an illegal memory access was encountered"),  # not torch's
    RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
])
def test_errors_that_leave_the_context_usable_are_not(exc: BaseException) -> None:
    assert lost_context(exc) is None


def test_an_error_raised_from_a_poisoning_one_is_recognized() -> None:
    outer = ValueError("the step failed")
    outer.__cause__ = torch.AcceleratorError(ILLEGAL_ACCESS)  # `raise ... from` sets it
    assert lost_context(outer) == "an illegal memory access was encountered"
    assert lost_context(ValueError("the step failed")) is None


def test_values_holding_tensors_off_the_host_are_left_out_by_name() -> None:
    from daifu_cli.runtime import restart

    on_device = torch.nn.Linear(3, 2, device="meta")
    content = {
        "frames": [{"model": on_device, "batch": (torch.ones(2), torch.empty(2, device="meta")), "w": torch.ones(3),
                    "step": 4}],
        "globals": {"main": {"table": torch.zeros(2), "emb": torch.empty(5, device="meta")}},
    }
    lost = restart._drop_off_host(content, restart._pickle_module(content), keep=("cpu",))
    assert sorted(item.split(":")[0] for item in lost) == ["batch (frame 0)", "main.emb", "model (frame 0)"]
    assert "model (frame 0): Linear holds tensors on meta, which cannot be copied after the CUDA error" in lost
    assert set(content["frames"][0]) == {"w", "step"} and set(content["globals"]["main"]) == {"table"}
    # by default meta tensors stay: they have no data to read
    again = {"frames": [{"model": on_device}], "globals": {}}
    assert restart._drop_off_host(again, restart._pickle_module(again)) == []


TRAIN = """
import torch
from torch import nn

CUDA_MESSAGE = {message!r}
BAD_STEP = 3


def launch(step):
    # Stands in for a kernel that faults: torch raises this, with this message, from its CUDA check.
    if step == BAD_STEP:
        raise torch.AcceleratorError(CUDA_MESSAGE)


def train(steps):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data, target = torch.randn(8, 4), torch.randn(8, 1)
    for step in range(steps):
        loss = ((model(data) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        launch(step)
        optimizer.step()
        print("step", step, round(loss.item(), 6), flush=True)
    print("weights", model.weight.tolist())


train(6)
"""


def test_a_poisoning_cuda_error_checkpoints_the_host_state_and_ends_the_process(tmp_path: Path) -> None:
    """Real subprocess; the CUDA error is raised by Python (see the module's docstring)."""
    run = Run(tmp_path, {"main.py": TRAIN.format(message=ILLEGAL_ACCESS)}).start()
    code, out, err = run.finish()
    assert code == 1, err
    assert [line.split()[1] for line in out.splitlines()] == ["0", "1", "2"], out  # steps before the error
    assert "CUDA error: an illegal memory access was encountered" in err
    assert "leaves the process's CUDA context unusable" in err and "ending with exit status 1" in err
    assert "Waiting for a fix" not in err and "main.py" in err.split("Traceback (user files):")[1], err
    events = run.events()
    assert any(e["event"] == "device-lost" for e in events)
    saved = [e for e in events if e["event"] == "process-checkpoint"]
    assert len(saved) == 1 and saved[0]["host_only"], events
    checkpoint = Path(saved[0]["path"])
    assert f"daifu: process checkpoint {checkpoint} (host memory only)" in err
    assert f"`daifu resume {checkpoint}`" in err
    state = json.loads(next((run.out / ".daifu" / "run").glob("*.json")).read_text())
    assert state["status"] == "ended" and "CUDA context is lost" in state["how"], state
    # The host state is whole: resumed after the fix, the run goes on as the fixed program does.
    fix = ("if step == BAD_STEP:", "if step == BAD_STEP and False:")  # code: the saved globals come back
    run.patch(*fix)
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 0, resumed.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]))
    assert out + resumed.stdout == fixed.stdout  # nothing redone, nothing lost
