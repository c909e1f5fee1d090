"""The training program the distributed cases run (2 gloo ranks, CPU, a tiny DDP model).

One source for every case and strategy; the environment picks the fault (``CB_FAULT``), its
step, periodic checkpoints (``CB_EVERY``) and the sharded optimizer (``CB_ZERO``). The
program appends timestamped marks to ``$CB_MARKS/rank<R>.log`` (start, fault, done, saved,
loaded, final), which is all the harness reads besides daifu's own files: a file, not a pipe,
so that a killed rank's last mark is on disk before it dies and nothing blocks on a reader.

Kills are done by the rank itself, ``os.kill(os.getpid(), SIGKILL)``, at a given step and
phase, and only in torchrun's first attempt. A harness that watched marks and then killed
could not land inside a collective that lasts a millisecond; the self-kill is the same real
SIGKILL (no handler, no clean-up) at exactly the chosen point:

* ``kill-before``: at the start of the step, before its forward (the peer goes on into the
  step's all-reduce and waits there);
* ``kill-during``: inside ``backward()``, from a gradient hook of the last gradient computed,
  0.3 s after it fired, so the peer has launched its all-reduce and waits inside it, and the
  killed rank never launches its own;
* ``kill-after``: after ``optimizer.step()``: the all-reduce completed and the killed rank
  applied the update;
* ``kill-zero``: during ``ZeroRedundancyOptimizer.step()``, after the rank updated its own
  shard (a step post-hook of the local optimizer) and before the broadcast of the updated
  shards, which the peer waits in;
* ``kill-save``: while the rank writes its periodic checkpoint (the new file is written, not
  yet renamed into place; its last complete one stands, one generation behind the other
  rank's: the ranks then agree on the newest step they all have).

The bugs (``bug-one``: rank 1 only; ``bug-all``) are a ``NameError`` in a line that does not
change the weights (the fix replaces ``scale`` with ``2.0``), after the step's update.
"""

SOURCE = '''
import datetime
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

STEPS = int(os.environ["CB_STEPS"])
EVERY = int(os.environ.get("CB_EVERY", "0"))
FAULT = os.environ.get("CB_FAULT", "none")
FAULT_STEP = int(os.environ.get("CB_FAULT_STEP", "-1"))
FAULT_RANK = 1
ZERO = os.environ.get("CB_ZERO") == "1"
PAUSE = float(os.environ.get("CB_PAUSE", "0.02"))
MARKS = os.environ["CB_MARKS"]


def attempt():
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))


# torchrun's agent keeps one store server across restarts, and env:// gives the workers no
# prefix per attempt (torch 2.13 assumes a new store each retry): a restarted attempt could read
# the failed attempt's gloo addresses and be refused. A prefix per attempt avoids that.
store = dist.PrefixStore(f"attempt-{attempt()}/", dist.TCPStore(
    os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
    timeout=datetime.timedelta(seconds=60)))
dist.init_process_group("gloo", store=store, rank=int(os.environ["RANK"]),
                        world_size=int(os.environ["WORLD_SIZE"]), timeout=datetime.timedelta(seconds=60))
rank = dist.get_rank()


def mark(what, step=-1, extra="-"):
    # opened at each mark: an open file is not in daifu's checkpoint, and a job resumed from it
    # must still write its marks (one short append, on disk before a kill -9 that follows)
    with open(os.path.join(MARKS, f"rank{rank}.log"), "a") as marks:
        marks.write(f"{time.time():.6f} {attempt()} {rank} {os.getpid()} {what} {step} {extra}\\n")


mark("start")


def killing():
    # read at each use: a job resumed from daifu's checkpoint has the first attempt's variables
    # back (a rank rebuilt from a replica, the replica's), so a flag computed at the start would
    # have the resumed rank kill itself again
    return FAULT.startswith("kill-") and rank == FAULT_RANK and attempt() == 0
current_step = -1


def die(phase):
    mark("fault", current_step, phase)
    os.kill(os.getpid(), signal.SIGKILL)


torch.manual_seed(0)
model = DistributedDataParallel(nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 1)))
if ZERO:
    from torch.distributed.optim import ZeroRedundancyOptimizer

    optimizer = ZeroRedundancyOptimizer(
        model.parameters(), optimizer_class=torch.optim.SGD, lr=0.02, momentum=0.9
    )
    local = optimizer.optim  # this rank's shard: what it saves and loads
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    local = optimizer


def in_backward(grad):
    if killing() and FAULT == "kill-during" and current_step == FAULT_STEP:
        time.sleep(0.3)
        die("during")
    return grad


def after_local_update(opt, args, kwargs):
    if killing() and FAULT == "kill-zero" and current_step == FAULT_STEP:
        time.sleep(0.3)
        die("zero-step")


model.module[0].weight.register_hook(in_backward)  # the last gradient backward computes
local.register_step_post_hook(after_local_update)

def checkpoint(step):
    return f"checkpoint-rank{rank}-step{step}.pt"


# Each rank keeps its last two checkpoints and all load the newest step every rank has: a rank
# killed while it writes leaves its newest one a step behind the others' (one file per rank
# and the newest only would have them start at different steps: their collectives no longer
# match).
start = 0
if EVERY:
    mine = [int(name[len(f"checkpoint-rank{rank}-step"):-3]) for name in os.listdir(".")
            if name.startswith(f"checkpoint-rank{rank}-step") and name.endswith(".pt")]
    common = torch.tensor([max(mine, default=0)])
    dist.all_reduce(common, op=dist.ReduceOp.MIN)
    start = int(common.item())
    if start:
        state = torch.load(checkpoint(start))
        model.module.load_state_dict(state["model"])
        local.load_state_dict(state["optim"])
        mark("loaded", start)


def save(step):
    began = time.perf_counter()
    torch.save({"model": model.module.state_dict(), "optim": local.state_dict(), "step": step},
               checkpoint(step) + ".tmp")
    if killing() and FAULT == "kill-save" and current_step == FAULT_STEP:
        die("saving")
    os.replace(checkpoint(step) + ".tmp", checkpoint(step))
    if os.path.exists(checkpoint(step - 2 * EVERY)):
        os.remove(checkpoint(step - 2 * EVERY))
    mark("saved", step, f"{(time.perf_counter() - began) * 1000:.3f}")


def batch(step):
    g = torch.Generator().manual_seed(step * 10 + rank)
    x = torch.randn(16, 16, generator=g)
    return x, x.sum(1, keepdim=True)


# the steps come from a DataLoader (each item: its step number, from which the batch follows),
# the loop daifu's job resume can take the same item again for a rank it rebuilds
steps = torch.utils.data.DataLoader(list(range(start, STEPS)), batch_size=None)
for step in steps:
    step = int(step)
    current_step = step
    if killing() and FAULT == "kill-before" and step == FAULT_STEP:
        die("before")
    x, y = batch(step)
    loss = ((model(x) - y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if killing() and FAULT == "kill-after" and step == FAULT_STEP:
        die("after")
    if step == FAULT_STEP and (FAULT == "bug-all" or (FAULT == "bug-one" and rank == FAULT_RANK)):
        mark("fault", step, "bug")
        normalized = loss.item() / scale
    mark("done", step)
    if EVERY and (step + 1) % EVERY == 0:
        save(step + 1)
    time.sleep(PAUSE)  # data loading, logging: the ranks are outside any collective here

checksum = sum(p.double().sum().item() for p in model.parameters())
mark("final", STEPS, f"{checksum:.12f}")
sys.stdout.write(f"rank {rank} final {checksum:.12f}\\n")
sys.stdout.flush()
dist.destroy_process_group()
'''

#: The bug and its fix, as a person would edit the source.
BUG = "normalized = loss.item() / scale"
FIX = "normalized = loss.item() / 2.0"
