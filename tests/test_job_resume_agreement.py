"""The restarted ranks' agreement on which job checkpoint to resume from (files of the output,
each rank's side in a thread here, as each rank is a process), and the values a rank rebuilt
from the replica computes again (runtime/rank_values.py). Fast: no torchrun, no torch."""

from __future__ import annotations

import argparse
import ast
import os
import textwrap
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from daifu_cli.runtime import jobcheckpoint, rank_values


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job")
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "2")
    return tmp_path / ".daifu"


def agree(home: Path, usable: dict[int, list[int]], world: int) -> dict[int, tuple[int | None, str, float]]:
    """Every rank of *usable* agrees in a thread of its own; rank -> (attempt, why, seconds)."""
    answers: dict[int, tuple[int | None, str, float]] = {}

    def side(rank: int) -> None:
        started = time.monotonic()
        attempt, why = jobcheckpoint.agree_on_resume(home, rank, world, usable[rank])
        answers[rank] = (attempt, why, time.monotonic() - started)

    threads = [threading.Thread(target=side, args=(rank,)) for rank in usable]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_the_ranks_take_the_newest_attempt_every_rank_can_use(home: Path) -> None:
    answers = agree(home, {0: [1, 0], 1: [0], 2: [1, 0]}, 3)
    assert {a[0] for a in answers.values()} == {0}


def test_one_rank_without_a_usable_checkpoint_makes_every_rank_start_over(home: Path) -> None:
    answers = agree(home, {0: [1], 1: []}, 2)
    assert answers[0][:2] == (None, "rank(s) 1 have no usable job checkpoint")
    assert answers[1][0] is None
    assert answers[1][2] < 1  # a rank with none does not wait


def test_a_rank_that_never_answers_is_waited_for_only_so_long(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobcheckpoint, "RESUME_WAIT", 0.5)
    answers = agree(home, {0: [1]}, 2)
    attempt, why, seconds = answers[0]
    assert attempt is None and why == "rank(s) 1 did not say within 0.5 s which job checkpoint they can use"
    assert 0.5 <= seconds < 5


def test_files_of_an_earlier_launch_with_the_same_run_id_are_not_this_attempts(home: Path) -> None:
    """A decision left by a launch before (the same run id given again) is ignored."""
    agree(home, {0: [], 1: []}, 2)
    folder = jobcheckpoint.attempt_folder(home) / "resume"
    old = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (old, old))
    answers = agree(home, {0: [0], 1: [0]}, 2)
    assert {a[0] for a in answers.values()} == {0}


SOURCE = '''
def train():
    rank = dist.get_rank()
    is_main = rank == 0
    arg_rank, env_rank = args.local_rank, os.environ["LOCAL_RANK"]
    args.local_rank = int(os.environ["LOCAL_RANK"])
    device_name = f"cuda:{args.local_rank}"
    model = Model(rank)
    os.environ["MY_RANK"] = str(rank)
    print(rank)
    steps = 10
    for step in range(steps):
        print(rank, step)
'''


def test_a_rebuilt_rank_computes_what_depends_on_who_it_is_and_names_the_rest() -> None:
    node = ast.parse(textwrap.dedent(SOURCE)).body[0]
    model: Any = object()
    values = {"rank": 0, "is_main": True, "arg_rank": 0, "env_rank": "0", "device_name": "cuda:0", "model": model, "steps": 10}
    args = argparse.Namespace(local_rank=0)
    namespace = {
        "dist": types.SimpleNamespace(get_rank=lambda: 1),
        "os": types.SimpleNamespace(environ={"LOCAL_RANK": "1"}),
        "args": args,
        "Model": lambda rank: None,
    }
    outcome = rank_values.Outcome()
    rank_values.recompute(node, values, namespace, outcome, before_line=12)
    assert values == {"rank": 1, "is_main": False, "arg_rank": 0, "env_rank": "1", "device_name": "cuda:1", "model": model, "steps": 10}
    assert args.local_rank == 1
    assert outcome.recomputed == ["rank", "is_main", "arg_rank", "env_rank", "args.local_rank", "device_name"]
    assert outcome.kept == ["model (a object, line 8)", "line 9 `os.environ['MY_RANK'] = str(rank)`"]
    assert outcome.not_run == ["line 10 `print(rank)`"]  # the loop's print runs again anyway
    assert outcome.failed == []


def test_argument_parsing_counts_as_per_rank() -> None:
    """``torch.distributed.launch`` passes each worker ``--local-rank=N``: the parse of the
    rebuilt rank's own command line is its own."""
    node = ast.parse("args = parser.parse_args()\nname = f'log-{args.local_rank}.txt'\n")
    parser = argparse.ArgumentParser()
    parser.add_argument("--local-rank", type=int, default=0)
    values: dict[str, Any] = {"args": argparse.Namespace(local_rank=0), "name": "log-0.txt"}
    namespace = {"parser": types.SimpleNamespace(parse_args=lambda: parser.parse_args(["--local-rank=3"]))}
    outcome = rank_values.Outcome()
    rank_values.recompute(node, values, namespace, outcome)
    assert values["args"].local_rank == 3 and values["name"] == "log-3.txt"
