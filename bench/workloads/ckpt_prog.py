"""Checkpoint benchmark workload: an MLP of HIDDEN x HIDDEN layers with Adam on the CPU.

    python ckpt_prog.py HIDDEN LAYERS MODE [STEPS]

MODE ``crash``: two steps, then a plain ``torch.save`` of the model's and optimizer's state
dicts (with fsync: what a checkpointing program writes), then the failing statement (a
division by ``DIVISOR``, 0 unless set: daifu checkpoints there). ``signal``: STEPS steps,
SIGUSR1 to itself after step 2; every step prints its duration. ``startup``: prints the
time of the first step and ends. Each line starting with ``BENCH`` is one JSON record.
"""

import json
import os
import signal
import sys
import time

import torch


def stamp():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def say(**record):
    print("BENCH", json.dumps(record), flush=True)


def plain_save(net, opt, path):
    started = time.perf_counter()
    with open(path, "wb") as handle:
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - started


def divide():
    say(failing_statement=stamp())
    return 1.0 / int(os.environ.get("DIVISOR", "0"))


def train(hidden, layers, mode, steps):
    torch.manual_seed(0)
    net = torch.nn.Sequential(*[torch.nn.Linear(hidden, hidden) for _ in range(layers)])
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.randn(8, hidden)
    for step in range(steps):
        started = time.perf_counter()
        if step == 0:
            say(first_step=stamp(), params=sum(p.numel() for p in net.parameters()))
            if mode == "startup":
                return
        loss = net(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if mode == "crash" and step == 1:
            say(
                plain_save_s=plain_save(net, opt, "plain-before.pt"),
                plain_bytes=os.path.getsize("plain-before.pt"),
            )
            total = divide()
            say(resumed_total=total)
        if mode == "signal" and step == 2:
            os.kill(os.getpid(), signal.SIGUSR1)
        say(step=step, step_s=time.perf_counter() - started, at=stamp())


if __name__ == "__main__":
    hidden, layers, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    train(hidden, layers, mode, int(sys.argv[4]) if len(sys.argv) > 4 else 3)
