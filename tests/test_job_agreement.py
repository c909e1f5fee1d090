"""The survivors of a lost rank agree on one step through a real TCPStore (in this process:
each survivor's side runs in a thread with a client of its own, as each rank has)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from conftest import requires_torch

pytestmark = requires_torch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def job_store() -> Any:
    import datetime

    import torch.distributed as dist

    port = free_port()
    server = dist.TCPStore("127.0.0.1", port, is_master=True, timeout=datetime.timedelta(seconds=30), wait_for_workers=False)
    yield port
    del server


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return child.pid


def channel(rank: int, world: int, port: int) -> Any:
    from daifu_cli.runtime import job

    made = job.Channel(rank, world, "127.0.0.1", port, "daifu/test/0/")
    assert made.connect()
    return made


def agree_all(port: int, world: int, records: dict[int, dict[str, Any]], lost: dict[int, int]) -> dict[int, Any]:
    """Each survivor of *records* publishes and agrees (in its own thread); *lost*: rank ->
    pid of the lost ranks (a pid that ended, or one alive that never answers)."""
    from daifu_cli.runtime import jobcheckpoint

    channels = {rank: channel(rank, world, port) for rank in records}
    for rank, pid in lost.items():
        next(iter(channels.values())).set(f"rank/{rank}", {"pid": pid, "host": socket.gethostname()})
    decided: dict[int, Any] = {}

    def agree(rank: int) -> None:
        decided[rank] = jobcheckpoint._agree(channels[rank], records[rank])

    threads = [threading.Thread(target=agree, args=(rank,)) for rank in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(decided) == sorted(records)
    return decided


def test_survivors_at_the_same_step_and_point_each_keep_their_own_state(job_store: int) -> None:
    point = ["train", [5, "body", 0], True, 1]
    decided = agree_all(job_store, 3, {0: {"rank": 0, "steps": 41, "point": point}, 2: {"rank": 2, "steps": 41, "point": point}}, {1: dead_pid()})
    assert decided[0] == decided[2] == {"replica": 0, "steps": 41, "own": [0, 2], "survivors": [0, 2]}


def test_a_survivor_that_applied_one_more_update_is_rebuilt_from_the_replica(job_store: int) -> None:
    """Rank 2 stepped once more than rank 0 before its collective failed (a collective inside
    the step that rank 2 passed and rank 0 did not): the job goes back to rank 0's step, and
    rank 2 is rebuilt from rank 0 like the lost rank; one decision for both."""
    decided = agree_all(
        job_store,
        4,
        {
            0: {"rank": 0, "steps": 41, "point": ["train", [5, "body", 0], True, 1]},
            2: {"rank": 2, "steps": 42, "point": ["train", [5, "body", 0], True, 1]},
            3: {"rank": 3, "steps": 41, "point": ["train", [5, "body", 6], False, 1]},
        },
        {1: dead_pid()},
    )
    assert decided[0] == decided[2] == decided[3]
    assert decided[0] == {"replica": 0, "steps": 41, "own": [0], "survivors": [0, 2, 3]}


def test_a_rank_that_never_answers_is_waited_for_only_so_long(job_store: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rank whose process runs but that never publishes (stuck in a collective with a
    survivor that already left): the others decide without it after DAIFU_AGREE_WAIT."""
    import os

    from daifu_cli.runtime import jobcheckpoint

    monkeypatch.setattr(jobcheckpoint, "AGREE_WAIT", 0.5)
    started = time.monotonic()
    decided = agree_all(job_store, 3, {0: {"rank": 0, "steps": 7, "point": ["f", [1], True, 1]}}, {1: dead_pid(), 2: os.getpid()})
    took = time.monotonic() - started
    assert decided[0] == {"replica": 0, "steps": 7, "own": [0], "survivors": [0]}
    assert 0.5 <= took < 5, took
