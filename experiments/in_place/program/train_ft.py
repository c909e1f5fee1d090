"""A small torchft DDP training program: one replica group per torchrun job.

Each replica group is a one-process torchrun job (``--nproc-per-node=1``); the replica groups
find each other through torchft's lighthouse (``TORCHFT_LIGHTHOUSE``). The batch of a step
follows from the step number torchft's Manager keeps and from the replica group's id, so a
replacement that received the state at step S trains on exactly the batch a survivor would.

Environment: REPLICA_GROUP_ID, NUM_REPLICA_GROUPS (2), STEPS (200), PACE (seconds slept
after each step), STEP_TO_DIE (the worker SIGKILLs itself at the start of that step, on
torchrun's first attempt only), BUG_AT_STEP (a shape bug in that step's forward, to be fixed
with daifu while the run waits), START_DIR (a folder where the replica groups meet once
before their first quorum, so that the first one holds both).

Every line is stamped with the wall clock: ``<time> replica <r> ...``.
"""

import os
import signal
import sys
import time
from datetime import timedelta

import torch
from torch import nn
from torchft import DistributedDataParallel, Manager, Optimizer, ProcessGroupGloo

REPLICA = int(os.environ.get("REPLICA_GROUP_ID", "0"))
GROUPS = int(os.environ.get("NUM_REPLICA_GROUPS", "2"))
STEPS = int(os.environ.get("STEPS", "200"))
PACE = float(os.environ.get("PACE", "0.02"))
DIE = int(os.environ.get("STEP_TO_DIE", "-1"))
BUG = int(os.environ.get("BUG_AT_STEP", "-1"))  # a bug at that step: a forward on 4 of 8 features
ATTEMPT = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
BATCH = 32


def say(line):
    sys.stdout.write(f"{time.time():.4f} replica {REPLICA} {line}\n")
    sys.stdout.flush()


def meet(folder, timeout=60.0):
    """Wait (at most *timeout* s) until every replica group has its Manager up."""
    if not folder:
        return
    open(os.path.join(folder, f"ready-{REPLICA}"), "w").close()
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(os.path.join(folder, f"ready-{r}")) for r in range(GROUPS)):
        if time.monotonic() > deadline:
            raise TimeoutError("the other replica groups did not start")
        time.sleep(0.05)


def checksum(model):
    return sum(p.double().sum().item() for p in model.parameters())


class FaultTolerantDDP(DistributedDataParallel):
    """torchft's DDP wrapper with its gradient hook made safe on gloo.

    In torchft 0.2.0 the hook waits on the all-reduce and returns the future behind it; when
    the wait fails (gloo raises at once when a peer is gone: "Connection reset by peer"),
    torchft records the error for ``should_commit`` but leaves that future unset, and the
    hook's ``assert fut._fut`` kills the survivor. Here a failed all-reduce gives back the
    bucket as it is: the error is recorded, and the step is not committed anywhere.
    """

    @staticmethod
    def _comm_hook(state, bucket):
        work = state.allreduce(bucket.buffer())
        if not work.wait():  # the error is recorded: this step will not be committed
            done = torch.futures.Future()
            done.set_result(bucket.buffer())
            return done
        fut = work.get_future()
        inner = getattr(fut, "_fut", None)
        if inner is None:  # torchft's no-op work after an earlier error: already completed
            return fut
        return inner


def build():
    """The data, the model and the optimizer: the same on every replica group."""
    torch.manual_seed(0)
    inputs = torch.randn(4096, 8)
    targets = inputs @ torch.randn(8, 1) + 0.1 * torch.randn(4096, 1)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    inner = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return inputs, targets, model, inner


def batch(inputs, targets, step, replica):
    """Replica group *replica*'s batch of step *step*: the rows a ``DistributedSampler``
    without shuffling gives rank *replica* of *GROUPS* (so the plain DDP program of
    experiments/in_place/ddp, 64 steps an epoch, sees the same batches)."""
    per_epoch = len(inputs) // (GROUPS * BATCH)
    first = (step % per_epoch) * GROUPS * BATCH + replica
    rows = slice(first, first + GROUPS * BATCH, GROUPS)
    return inputs[rows], targets[rows]


def main():
    inputs, targets, model, inner = build()

    def state_dict():
        return {"model": model.state_dict(), "optim": inner.state_dict()}

    def load_state_dict(state):
        model.load_state_dict(state["model"])
        inner.load_state_dict(state["optim"])
        say(f"received the state at step {manager.current_step()} checksum {checksum(model):.12f}")

    manager = Manager(
        pg=ProcessGroupGloo(timeout=timedelta(seconds=5)),
        min_replica_size=1,
        load_state_dict=load_state_dict,
        state_dict=state_dict,
        replica_id=f"replica_{REPLICA}",
        timeout=timedelta(seconds=10),
        use_async_quorum=False,  # a replacement heals before its forward, then takes part
    )
    # TORCHFT_STOCK_HOOK=1: torchft's own hook, to see what its failure does (see FaultTolerantDDP).
    wrapper = DistributedDataParallel if os.environ.get("TORCHFT_STOCK_HOOK") == "1" else FaultTolerantDDP
    ddp = wrapper(manager, model)
    optimizer = Optimizer(manager, inner)
    say(f"pid {os.getpid()} attempt {ATTEMPT}")
    meet(os.environ.get("START_DIR"))

    while manager.current_step() < STEPS:
        optimizer.zero_grad()  # the quorum; a replica that is behind receives the state here
        step = manager.current_step()
        if step == DIE and ATTEMPT == "0":
            say(f"dies at step {step}")
            os.kill(os.getpid(), signal.SIGKILL)
        x, y = batch(inputs, targets, step, REPLICA)
        loss = ((ddp(x if step != BUG else x[:, :4]) - y) ** 2).mean()
        loss.backward()
        optimizer.step()  # applied only where every replica group of the quorum commits
        committed = manager.current_step() > step
        say(
            f"step {step} loss {loss.item():.10f} participants {manager.num_participants()} "
            f"committed {int(committed)}"
        )
        time.sleep(PACE)

    say(f"final {checksum(model):.12f}")
    manager.shutdown(wait=False)


if __name__ == "__main__":
    main()
