"""Data positions in process checkpoints: a training loop over a loader crashes, the process
checkpoint saves where every live iterator stands in its epoch, the process ends, the person
fixes the source, and `daifu resume` goes on with the next batch. What the two processes print
together (losses, the final weights, as exact float reprs) equals the fixed program run from
scratch, bit for bit, and the resumed process loads none of the batches consumed before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recovery import Run, fixed_copy, run_plain
from tests.test_restart import crash_checkpoint_and_terminate

pytest.importorskip("torch")

# A map-style dataset that notes every index it loads in the file named by $LOADS (appends are
# atomic, so worker processes can write too): the resumed run must load only what is left. Each
# sample is shifted by the seed of the worker that loads it: the same batches must go to the
# same workers, seeded as before.
DATASET = """
import os
import torch
from torch.utils.data import Dataset, get_worker_info


class Points(Dataset):
    def __init__(self, n):
        generator = torch.Generator().manual_seed(7)
        self.x = torch.randn(n, 3, generator=generator)
        self.y = self.x @ torch.tensor([1.5, -2.0, 0.5]) + 0.1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        loads = os.open(os.environ["LOADS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(loads, f"{index}\\n".encode())
        os.close(loads)
        worker = get_worker_info()
        shift = 0.0 if worker is None else worker.seed % 7 / 1000
        return self.x[index] + shift, self.y[index]
"""

SHUFFLED = """
import os
import torch
from torch.utils.data import DataLoader
from points import Points

torch.manual_seed(0)
generator = torch.Generator().manual_seed(42)
loader = DataLoader(Points(48), batch_size=4, shuffle=True, generator=generator,
                    num_workers=int(os.environ["WORKERS"]))
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)


def train():
    for step, (x, y) in enumerate(loader):
        loss = (model(x).squeeze(1) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print("step", step, repr(loss.item()), 1 // (step - 6), flush=True)
    print("weights", model.weight.tolist(), model.bias.tolist())


train()
"""

NESTED = """
import os
import random
import torch
from torch.utils.data import DataLoader, RandomSampler, Sampler
from points import Points


class Shuffled(Sampler):  # a sampler of the program's own: its own generator and Python's
    def __init__(self, n):
        self.n = n
        self.rng = random.Random(3)

    def __iter__(self):
        order = list(range(self.n))
        self.rng.shuffle(order)
        if random.random() < 0.5:
            order.reverse()
        return iter(order)

    def __len__(self):
        return self.n


torch.manual_seed(0)
random.seed(1)
data = Points(24)
if os.environ["SAMPLER"] == "own generator":
    sampler = RandomSampler(data, generator=torch.Generator().manual_seed(5))
else:
    sampler = Shuffled(len(data))
loader = DataLoader(data, batch_size=4, sampler=sampler)


def train(epochs):
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(epochs):
        for step, (x, y) in enumerate(loader):
            noise = torch.randn(()) * 0.01 + random.random() * 0.01  # global generators
            loss = (model(x).squeeze(1) - y).pow(2).mean() + noise
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            print(epoch, step, repr(loss.item()), 1 // (epoch * 10 + step - 12), flush=True)
    return model


model = train(3)
print("weights", model.weight.tolist(), model.bias.tolist())
"""

STATEFUL = """
import os
import torch
from torchdata.stateful_dataloader import StatefulDataLoader
from points import Points

torch.manual_seed(0)
loader = StatefulDataLoader(Points(40), batch_size=4, shuffle=True,
                            generator=torch.Generator().manual_seed(3),
                            num_workers=int(os.environ["WORKERS"]))


def train():
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(2):
        for x, y in loader:
            loss = (model(x).squeeze(1) - y).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            print(epoch, repr(loss.item()), 1 // (len(y) * epoch - 4), flush=True)
    print("weights", model.weight.tolist(), model.bias.tolist())


train()
"""

# Plain iterators: a dict's items (the phases), a list iterator shared between a variable and
# the zip that pulls from it (the loop body takes an extra sample from it now and then), an
# enumerate over the zip.
LISTS = """
import torch

torch.manual_seed(0)
samples = [torch.randn(3) for _ in range(30)]
targets = [float(s.sum()) for s in samples]
schedule = {"warmup": 0.01, "main": 0.05, "tail": 0.02}


def train():
    weights = torch.zeros(3)
    for phase, lr in schedule.items():
        rows = iter(samples)
        for i, (x, y) in enumerate(zip(rows, targets)):
            error = float(weights @ x) - y
            weights = weights - lr * error * x
            if i % 4 == 3:
                skipped = next(rows)
            print(phase, i, repr(error), 1 // (len(phase) * 10 + i - 47), flush=True)
    print("weights", weights.tolist())


train()
"""

ITERABLE = """
import torch
from torch.utils.data import DataLoader, IterableDataset


class Stream(IterableDataset):
    def __iter__(self):
        for i in range(20):
            yield torch.tensor([float(i)])


def train():
    total = 0.0
    for batch in DataLoader(Stream(), batch_size=2):
        total += float(batch.sum()) / (len(batch) - 2)
    print(total)


train()
"""


def daifu_resume(
    checkpoint: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "DAIFU_CONSOLE": "off",
        "DAIFU_WAIT": "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    full.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "daifu_cli", "resume", str(checkpoint)],
        capture_output=True,
        text=True,
        timeout=300,
        env=full,
    )


def unsaved_data(meta: dict) -> list[str]:  # type: ignore[type-arg]
    """What the checkpoint lists as not saved among the loops' iterators and the loaders (a
    tensor's autograd graph, also listed, is not data)."""
    return [
        i for i in meta["lost"] if i.startswith("_daifu_it_") or "loader" in i.split(":")[0].lower()
    ]


def loaded(path: Path) -> list[int]:
    """The indices the dataset loaded since the last call."""
    if not path.exists():
        return []
    indices = [int(line) for line in path.read_text().split()]
    path.unlink()
    return indices


def resume_and_compare(
    tmp_path: Path, program: str, fix: tuple[str, str], env: dict[str, str]
) -> tuple[str, list[int], list[int]]:
    """Crash, checkpoint, SIGTERM, fix, resume; the outputs must add up to the fixed run's.
    Returns the resumed output and the indices each process loaded."""
    loads = tmp_path / "loads"
    env = {**env, "LOADS": str(loads)}
    run = Run(tmp_path, {"main.py": program, "points.py": DATASET}, env=env)
    checkpoint, before = crash_checkpoint_and_terminate(run)
    loaded_before = loaded(loads)
    meta = json.loads(checkpoint.read_text())
    assert unsaved_data(meta) == [], meta["lost"]
    run.patch(*fix)
    resumed = daifu_resume(checkpoint, env=env)
    assert resumed.returncode == 0, resumed.stderr
    loaded_after = loaded(loads)
    fixed = run_plain(fixed_copy(run, tmp_path, [fix]), env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert before + resumed.stdout == fixed.stdout  # nothing redone, nothing lost, bit for bit
    assert "weights" in resumed.stdout
    return resumed.stdout, loaded_before, loaded_after


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_shuffled_dataloader_resumes_at_the_next_batch_without_loading_the_consumed_ones(
    tmp_path: Path, workers: str
) -> None:
    fix = ("1 // (step - 6)", "1 // (step - 6 or 1)")
    resumed, before, after = resume_and_compare(tmp_path, SHUFFLED, fix, {"WORKERS": workers})
    assert resumed.startswith("step 6 ")  # the failing print, then the rest of the epoch
    # 7 batches of 4 went through the model before the crash; the resumed process loads the
    # other 20 samples, each once (with workers too: the consumed batches are not sent to them)
    assert len(after) == len(set(after)) == 48 - 28
    assert set(before) | set(after) == set(range(48))
    if workers == "0":  # no prefetch: what was loaded before is exactly what was consumed
        assert len(before) == 28 and not set(before) & set(after)


@pytest.mark.parametrize(
    "sampler", ["own generator", "Python's Random, its own and the global one"]
)
def test_a_nested_epoch_loop_over_a_loader_with_its_own_sampler(
    tmp_path: Path, sampler: str
) -> None:
    fix = ("1 // (epoch * 10 + step - 12)", "1 // (epoch * 10 + step - 12 or 1)")
    resumed, before, after = resume_and_compare(tmp_path, NESTED, fix, {"SAMPLER": sampler})
    assert resumed.startswith("1 2 ")  # epoch 1, step 2
    assert len(before) == 24 + 12 and len(after) == 24 * 3 - 36
    assert sorted(before[24:] + after[:12]) == list(range(24))  # epoch 1: each sample once


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_stateful_dataloader_resumes_through_its_state_dict(tmp_path: Path, workers: str) -> None:
    pytest.importorskip("torchdata")
    fix = ("1 // (len(y) * epoch - 4)", "1 // (len(y) * epoch - 4 or 1)")
    resumed, before, after = resume_and_compare(tmp_path, STATEFUL, fix, {"WORKERS": workers})
    assert resumed.startswith("1 ")  # the first batch of epoch 1 failed
    assert len(after) == 40 - 4  # the rest of epoch 1, each sample once
    if workers == "0":
        assert len(before) == 40 + 4


def test_plain_iterators_over_lists_resume_at_their_element(tmp_path: Path) -> None:
    fix = ("1 // (len(phase) * 10 + i - 47)", "1 // (len(phase) * 10 + i - 47 or 1)")
    resumed, _, _ = resume_and_compare(tmp_path, LISTS, fix, {})
    assert resumed.startswith("main 7 ")  # "main": 40 + 7 - 47 == 0


def test_an_iterable_style_dataset_is_named_and_its_resume_refused(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": ITERABLE})
    checkpoint, _ = crash_checkpoint_and_terminate(run)
    meta = json.loads(checkpoint.read_text())
    assert any("iterable-style dataset" in item for item in meta["lost"]), meta["lost"]
    run.patch("(len(batch) - 2)", "(len(batch) - 2 or 1)")
    resumed = daifu_resume(checkpoint)
    assert resumed.returncode == 2, resumed.stderr
    assert (
        "daifu: not in the checkpoint: _daifu_it_L13 (frame 0): _SingleProcessDataLoaderIter cannot be saved: "
        "a DataLoader iterator over an iterable-style dataset" in resumed.stderr
    ), resumed.stderr
    assert (
        "daifu: cannot resume: train(): the loop `for batch in DataLoader(Stream(), batch_size=2)` (line 13) "
        "goes on with its iterator, which is not in the checkpoint: _SingleProcessDataLoaderIter cannot be saved: "
        "a DataLoader iterator over an iterable-style dataset: its position cannot be reproduced"
        in resumed.stderr
    )
    assert resumed.stdout == ""


RUNNING = """
import sys
import time
import torch
from torch.utils.data import DataLoader
from points import Points

torch.manual_seed(0)
loader = DataLoader(Points(48), batch_size=4, shuffle=True, num_workers=2,
                    generator=torch.Generator().manual_seed(9))


def train():
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for step, (x, y) in enumerate(loader):
        loss = (model(x).squeeze(1) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print("step", step, repr(loss.item()), flush=True)
        if step == 3:
            print("ready", file=sys.stderr, flush=True)
        time.sleep(0.05)
    print("weights", model.weight.tolist(), model.bias.tolist())


train()
"""


def test_sigusr1_checkpoints_a_loader_with_workers_and_the_run_goes_on_unchanged(
    tmp_path: Path,
) -> None:
    """Saving the loader's position while it runs changes nothing in the run; resuming that
    checkpoint completes it: the resumed output is the uninterrupted run's rest."""
    import signal
    import time

    loads = tmp_path / "loads"
    run = Run(tmp_path, {"main.py": RUNNING, "points.py": DATASET}, env={"LOADS": str(loads)})
    plain = run_plain(run.src, env={"LOADS": str(loads)}).stdout
    loaded(loads)
    run.start()
    assert run.process is not None and run.process.stderr is not None
    assert run.process.stderr.readline().strip() == "ready"
    run.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while not list((run.out / ".daifu" / "jit").glob("*sigusr1*.json")):
        assert time.monotonic() < deadline, "no checkpoint after SIGUSR1"
        time.sleep(0.02)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == plain  # the live run is unchanged
    checkpoint = next((run.out / ".daifu" / "jit").glob("*sigusr1*.json"))
    assert unsaved_data(json.loads(checkpoint.read_text())) == []
    loaded(loads)
    resumed = daifu_resume(checkpoint, env={"LOADS": str(loads)})
    assert resumed.returncode == 0, resumed.stderr
    done = plain.index(resumed.stdout)  # the rest of the run, from the step it stood at
    steps_before = plain[:done].count("step ")
    assert 4 <= steps_before < 12 and plain.endswith(resumed.stdout)
    assert len(loaded(loads)) == 48 - 4 * steps_before  # only the batches still to come


def test_a_resumed_loader_is_saved_again_at_a_later_crash(tmp_path: Path) -> None:
    """The iterator rebuilt in the resumed process is itself checkpointed at its next crash,
    and resuming that one completes the run: three processes print the fixed run's output."""
    import signal
    import time

    env = {"WORKERS": "0", "LOADS": str(tmp_path / "loads")}
    program = SHUFFLED.replace("1 // (step - 6)", "1 // (step - 6) // (step - 9)")
    run = Run(tmp_path, {"main.py": program, "points.py": DATASET}, env=env)
    first, out1 = crash_checkpoint_and_terminate(run)
    fix1 = ("1 // (step - 6)", "1 // (step - 6 or 1)")
    run.patch(*fix1)
    full = {**run.env, **env}
    second = subprocess.Popen(
        [sys.executable, "-m", "daifu_cli", "resume", str(first)],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len([e for e in run.events() if e["event"] == "process-checkpoint"]) < 2:
            assert second.poll() is None, second.communicate()
            assert time.monotonic() < deadline, "no second checkpoint"
            time.sleep(0.05)
        time.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        out2, err2 = second.communicate(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
    later = Path([e for e in run.events() if e["event"] == "process-checkpoint"][1]["path"])
    assert unsaved_data(json.loads(later.read_text())) == [], err2
    fix2 = ("// (step - 9)", "// (step - 9 or 1)")
    run.patch(*fix2)
    third = daifu_resume(later, env=env)
    assert third.returncode == 0, third.stderr
    fixed = run_plain(fixed_copy(run, tmp_path, [fix1, fix2]), env=env)
    assert out1 + out2 + third.stdout == fixed.stdout
    assert out2.startswith("step 6 ") and third.stdout.startswith("step 9 ")


SCRIPT = """
import torch
from torch.utils.data import DataLoader
from points import Points

torch.manual_seed(0)
loader = DataLoader(Points(40), batch_size=4, shuffle=True, num_workers=2,
                    generator=torch.Generator().manual_seed(1))
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(2):
    for step, (x, y) in enumerate(loader):
        loss = (model(x).squeeze(1) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(epoch, step, repr(loss.item()), 1 // (epoch * 10 + step - 13), flush=True)
print("weights", model.weight.tolist(), model.bias.tolist())
"""


def test_a_script_level_loop_over_a_loader_with_workers(tmp_path: Path) -> None:
    """A nanoGPT-style train.py: the loops are module-level code (iterators in the script's
    cells), the loader a global; epoch 1 resumes at its fourth batch."""
    fix = ("1 // (epoch * 10 + step - 13)", "1 // (epoch * 10 + step - 13 or 1)")
    resumed, _, after = resume_and_compare(tmp_path, SCRIPT, fix, {})
    assert resumed.startswith("1 3 ")
    assert len(after) == len(set(after)) == 40 - 16
