"""The job's checkpoint after a lost rank, and every rank resuming from it when torchrun
restarts the workers.

**Saving** (each survivor, when its collective failed because a peer is gone):

1. *Agreement.* The survivor publishes its optimizer step count (:mod:`.steps`) and the
   point it would resume at (:mod:`.steppoint`) under the job's store (the process group is
   broken; torchrun's TCPStore is not), waits (bounded) for the other survivors, and the first
   to decide writes the decision (``compare_set``: one decision however many decide): the
   *replica* is the lowest rank among those with the fewest steps. A survivor that applied an
   update the replica did not, or stopped at another point, is not resumed from its own state:
   like the lost rank, it is rebuilt from the replica (exact, where undoing its update would
   be within a unit in the last place; see README).
2. *Checkpoint.* Each survivor in agreement writes its own process checkpoint at the agreed
   point (its per-rank state: random generators, data position, its own variables), and
   ``rank-<r>.json`` naming it. The replica then writes ``job.json``: the decision, and which
   checkpoint each other rank resumes from. A rank with no ``rank-<r>.json`` (lost, or not in
   agreement) resumes from the replica's checkpoint with its own rank put back (see
   :func:`rebuild`).

Everything lives in ``.daifu/job/<run id>/attempt-<n>/`` of the output.

**Resuming.** A worker that torchrun restarted (``TORCHELASTIC_RESTART_COUNT`` > 0), started
without ``DAIFU_RESUME``, looks for the newest whole ``job.json`` of an earlier attempt of the
same run and resumes from it (``DAIFU_JOB_RESUME=0`` turns this off): the checkpoint is armed
as ``daifu resume`` arms one (:func:`.restart.arm`, which checks the output's fingerprint),
and before its payload is loaded daifu sets up the default process group the program had
(backend and timeout as recorded), unless the program's own set-up already did: the resumed
function starts past its ``init_process_group``, and a pickled DDP wrapper comes back bound
to the default group.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import frames, job, rankvalues, steppoint, steps, trust

#: Seconds a survivor waits for the others to say their step (they notice the loss at their
#: own next collective; on one host within about a second of each other).
AGREE_WAIT = float(os.environ.get("DAIFU_AGREE_WAIT", "10"))
FORMAT = "daifu-job-checkpoint/1"


class NoJobCheckpoint(Exception):
    """The survivors cannot give the job a checkpoint to resume from (the message says why)."""


def enabled() -> bool:
    return os.environ.get("DAIFU_JOB_RESUME", "1") != "0"


def attempt_folder(home: Path, attempt: int | str | None = None) -> Path:
    run_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.environ.get("TORCHELASTIC_RUN_ID", "none"))
    if attempt is None:
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return home / "job" / run_id / f"attempt-{attempt}"


# -- saving ------------------------------------------------------------------------------------


def save(session: Any, lost: str) -> dict[str, Any]:
    """The survivor's part of the job checkpoint; returns what it did, for the log."""
    from . import restart

    if not enabled():
        raise NoJobCheckpoint("DAIFU_JOB_RESUME=0")
    channel = job._mine()
    if channel is None or channel.store is None:
        raise NoJobCheckpoint("no job channel: not a torchrun worker, DAIFU_JOB=0, or its store cannot be reached")
    where = session.where
    home: Path = session.config.home
    outer, gaps = restart._outer_frames(where, home)
    if gaps:
        raise NoJobCheckpoint(f"called through library code that would start over ({gaps[0]})")
    wheres = [where, *outer]
    try:
        point = steppoint.find(wheres)
    except steppoint.NoStepPoint as why:
        raise NoJobCheckpoint(str(why)) from None
    started = time.perf_counter()
    mine = {
        "rank": channel.rank,
        "steps": steps.count,
        "point": [wheres[point.frame].qualname, list(point.path), point.redo, len(wheres) - point.frame],
    }
    decision = _agree(channel, mine)
    agreed_s = time.perf_counter() - started
    folder = trust.private_dir(attempt_folder(home))
    replica = decision["replica"]
    in_agreement = channel.rank in decision["own"]
    result: dict[str, Any] = {"decision": decision, "agree_ms": round(agreed_s * 1000, 1), "point": point.describe}
    if not in_agreement:
        result["rebuilt"] = "this rank is rebuilt from the replica"
        return result
    started = time.perf_counter()
    rng = steps.rng_after_step if point.redo else None
    if point.redo and rng is None and steps.count > 0:
        raise NoJobCheckpoint("the random state after the last optimizer step was not recorded")
    context = session.context if point.frame == 0 else _context(wheres[point.frame])
    script = wheres[point.frame].view.node.name == "__daifu_script__"
    prepared = restart.prepare(
        wheres[point.frame], context, script, home, f"job-{channel.rank}", _exception(session),
        copy=False, rng=rng, gradients=not point.redo,
    )
    entry = prepared.meta["frames"][-1]
    entry["path"] = list(point.path)
    if point.redo:
        entry["phase"] = "run"
    entry["line"] = frames.statement_at(wheres[point.frame].view.body, point.path).node.lineno
    written = prepared.write()
    result["checkpoint"] = str(written.path)
    result["write_ms"] = round((time.perf_counter() - started) * 1000, 1)
    _write_json(folder / f"rank-{channel.rank}.json", {"rank": channel.rank, "checkpoint": str(written.path)})
    if channel.rank == replica:
        record = {
            "format": FORMAT,
            "created": time.time(),
            "world": channel.world,
            "replica": replica,
            "replica_checkpoint": str(written.path),
            "steps": decision["steps"],
            "own": decision["own"],
            "lost": lost,
            "point": point.describe,
            "redo": point.redo,
            "process_group": _process_group(),
        }
        _write_json(folder / "job.json", record)
    return result


def _exception(session: Any) -> str:
    return f"{type(session.exc).__name__}: {session.exc}"


def _context(where: frames.Where) -> Any:
    from .context import capture

    script = where.view.node.name == "__daifu_script__"
    if where.continuation is not None:
        return where.continuation.context
    return capture(where.qualname, where.frames, script=script)


def _agree(channel: job.Channel, mine: dict[str, Any]) -> dict[str, Any]:
    """Publish this survivor's step and point, wait (at most :data:`AGREE_WAIT`) for the
    others that still run, and return the job's one decision."""
    channel.set(f"agree/{channel.rank}", mine)
    gone = set(job._gone_ranks(channel))
    try:
        channel.refresh()
    except Exception:
        pass
    # A rank that crashed on a bug and waits for a fix publishes no step: not waited for.
    expected = [r for r in range(channel.world) if r not in gone and (r == channel.rank or r not in channel.crashes)]
    deadline = time.monotonic() + AGREE_WAIT
    while True:
        records = {r: channel.get(f"agree/{r}") for r in expected}
        have = {r: rec for r, rec in records.items() if rec is not None}
        if len(have) == len(expected) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    fewest = min(rec["steps"] for rec in have.values())
    replica = min(r for r, rec in have.items() if rec["steps"] == fewest)
    own = sorted(
        r for r, rec in have.items() if rec["steps"] == fewest and rec["point"] == have[replica]["point"]
    )
    proposal = json.dumps({"replica": replica, "steps": fewest, "own": own, "survivors": sorted(have)})
    key = channel.prefix + "agree/decision"
    with channel.lock:
        decided = channel.store.compare_set(key, "", proposal)
    return dict(json.loads(decided))


def _process_group() -> dict[str, Any]:
    """How the program set up its default process group: the restored job sets it up the
    same way before loading a checkpoint that holds a DDP wrapper."""
    import torch
    import torch.distributed as dist

    found: dict[str, Any] = {"backend": str(dist.get_backend())}
    try:  # the backend's own options hold the timeout init_process_group was given
        group = dist.distributed_c10d._get_default_group()
        device = torch.device("cuda" if "nccl" in found["backend"] else "cpu")
        found["timeout_s"] = group._get_backend(device).options._timeout.total_seconds()
    except Exception:
        pass
    return found


def _write_json(path: Path, value: dict[str, Any]) -> None:
    trust.write_private(path, json.dumps(value, indent=1, default=str).encode("utf-8"), sync=True)


# -- resuming ----------------------------------------------------------------------------------


def find(home: Path) -> tuple[Path, dict[str, Any]] | None:
    """In a restarted worker: the checkpoint this rank resumes from, and the job's record
    (with ``rebuild_from``, the replica's rank, where this rank is rebuilt from it)."""
    try:
        restart_count = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        rank = int(os.environ["RANK"])
    except (KeyError, ValueError):
        return None
    for attempt in range(restart_count - 1, -1, -1):
        folder = attempt_folder(home, attempt)
        if not (folder / "job.json").exists():
            continue
        refused = trust.untrusted_file(folder / "job.json")
        if refused is not None:  # it names the checkpoints this process loads (pickle)
            print(f"daifu: not resuming from {folder / 'job.json'}: {refused}", file=sys.stderr, flush=True)
            return None
        try:
            record = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("format") != FORMAT:
            continue
        record["attempt"] = attempt
        try:
            own = json.loads((folder / f"rank-{rank}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            own = None
        if own is not None and rank in record.get("own", []):
            return Path(own["checkpoint"]), record
        record["rebuild_from"] = record["replica"]
        return Path(record["replica_checkpoint"]), record
    return None


def resume_job() -> None:
    """In a worker torchrun restarted: arm the job's checkpoint, if an earlier attempt left
    one (the shim calls this where it would look at ``DAIFU_RESUME``)."""
    if not enabled():
        return
    from . import config as config_module
    from . import restart

    # Processes this one starts (a DataLoader's spawned workers run the program's modules
    # again) inherit the environment: they must not resume the job too.
    if os.environ.get("DAIFU_JOB_LOOKED", str(os.getpid())) != str(os.getpid()):
        return
    os.environ["DAIFU_JOB_LOOKED"] = str(os.getpid())
    found = find(config_module.load().home)
    if found is None:
        return
    path, record = found
    source = record.get("rebuild_from")
    how = f"rebuilt from rank {source}'s replica" if source is not None else "its own state"
    print(
        f"daifu: rank {os.environ.get('RANK')} resumes from the job checkpoint of attempt {record['attempt']} "
        f"({record['steps']} optimizer steps, {record['point']}; {how}): {path}",
        file=sys.stderr,
        flush=True,
    )
    restart.arm(str(path), job=record)


def before_load(record: dict[str, Any]) -> None:
    """Set up the default process group the saved job had, if the program's own set-up did
    not (the resumed function starts past its ``init_process_group``)."""
    import datetime

    import torch.distributed as dist

    if dist.is_initialized():
        return
    group = record.get("process_group") or {}
    timeout = datetime.timedelta(seconds=float(group.get("timeout_s") or 1800))
    env = os.environ
    # torchrun's agent keeps one store for every attempt, and init_process_group's env://
    # keys (each rank's gloo address) carry no attempt: a rank of this attempt that reads a
    # peer's address before the peer wrote its new one gets the dead one of the attempt
    # before ("Connection refused"). Keys of this attempt's own avoid that.
    store = dist.PrefixStore(
        f"daifu/pg/{env.get('TORCHELASTIC_RESTART_COUNT', '0')}/",
        dist.TCPStore(env["MASTER_ADDR"], int(env["MASTER_PORT"]), is_master=False, timeout=timeout),
    )
    dist.init_process_group(
        backend=group.get("backend", "gloo"),
        store=store,
        rank=int(env["RANK"]),
        world_size=int(env["WORLD_SIZE"]),
        timeout=timeout,
    )


def after_load(record: dict[str, Any], loaded: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Once the payload is loaded (before its loader iterators are rebuilt): the step count,
    and for a rank rebuilt from the replica, its own rank put back. Returns what is not
    reconstructed, for the person."""
    steps.count = int(record.get("steps", 0))
    source = record.get("rebuild_from")
    if source is None:
        return []
    rank = int(os.environ["RANK"])
    if record.get("redo"):
        _step_back(loaded, meta)
    samplers = _distributed_samplers([*loaded["frames"], *loaded["globals"].values()])
    for sampler in samplers:
        sampler.rank = rank
    outcome = rankvalues.Outcome()
    for index, entry in enumerate(meta["frames"]):
        module = sys.modules.get(entry["module"])
        namespace = dict(vars(module)) if module is not None else {}
        namespace.update(loaded["globals"].get(entry["module"], {}))
        tree = ast.parse(meta["sources"][entry["module"]])
        node = _function_node(tree, entry)
        if node is None:
            continue
        rankvalues.recompute(node, loaded["frames"][index], namespace, outcome)
    for name, values in loaded["globals"].items():
        module = sys.modules.get(name)
        if module is None or name not in meta["sources"]:
            continue
        # The script's own code, in nested blocks too (`if ddp: rank = int(os.environ["RANK"])`).
        body = [s for s in ast.parse(meta["sources"][name]).body if not isinstance(s, _DEFINITIONS)]
        rankvalues.recompute(ast.Module(body=body, type_ignores=[]), values, {**vars(module), **values}, outcome)
    rankvalues.recompute_attributes(
        {name: meta["sources"][name] for name in meta["sources"] if name in sys.modules},
        [*loaded["frames"], *loaded["globals"].values()],
        outcome,
    )
    notes = [
        f"rank {rank} resumes from rank {source}'s checkpoint: model and optimizer are the replica's; "
        f"{len(samplers)} DistributedSampler(s) set to rank {rank} (its data position follows from the step)"
        + (f"; computed again for this rank: {', '.join(outcome.recomputed)}" if outcome.recomputed else "")
        + (f"; objects built from the rank kept as the replica's (their state is the step's): {', '.join(outcome.kept)}"
           if outcome.kept else "")
    ]
    own_rng = _own_random_state(record, loaded, rank)
    if own_rng:
        notes.append(f"rank {rank}'s torch random generator is its own after step {record['steps']} ({own_rng}); "
                     f"not reconstructed: its Python and NumPy generators and its other variables are rank {source}'s")
    else:
        notes.append(f"not reconstructed for rank {rank}: its random generators and its other variables are rank {source}'s")
    if outcome.failed:
        notes.append(f"could not compute again for rank {rank}: {', '.join(outcome.failed)}")
    return notes


def _own_random_state(record: dict[str, Any], loaded: dict[str, Any], rank: int) -> str | None:
    """For a rebuilt rank: the torch generator state the lost rank itself had after the last
    step, from the file it kept (:mod:`.rankrng`), put in place of the replica's. Where the
    step is done again, that is the state the survivors redo it from too; where the job
    resumes after the step, at the failing statement, it is exact when the loop draws nothing
    between ``optimizer.step()`` and that statement (as a metric's all-reduce does not). Says
    where it came from, or ``None`` where there is none (a rank on another host, a step the
    file no longer holds)."""
    if "torch" not in loaded.get("rng", {}):
        return None
    from . import config as config_module
    from . import rankrng

    path = rankrng.file_for(config_module.load().home, rank, record["attempt"])
    data = rankrng.read(path, int(record["steps"]))
    if data is None:
        return None
    import torch

    loaded["rng"]["torch"] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return f"kept by rank {rank}'s process in {path.name}"


def adjust(meta: dict[str, Any], record: dict[str, Any]) -> None:
    """A rank rebuilt from the replica, where the step is done again: the replica's frame
    holds the replica's item of the step's iteration (its batch), bound to the loop's target.
    So this rank resumes at the loop's header instead, taking the item again from its own
    data (its loader's iterator is moved back one batch by :func:`_step_back`)."""
    if record.get("rebuild_from") is None or not record.get("redo"):
        return
    entry = meta["frames"][-1]
    entry["path"] = entry["path"][:-2]
    entry["phase"] = "next"


def _step_back(loaded: dict[str, Any], meta: dict[str, Any]) -> None:
    """Move the iterator of the loop the rebuilt rank resumes at back by one item (it is
    still a DataLoader iterator's saved state: :mod:`.loaders` rebuilds it from that)."""
    from . import loaders, logical, registry

    entry = meta["frames"][-1]
    record = registry.ModuleRecord(entry["module"], entry["file"], meta["sources"][entry["module"]])
    nodes = logical.find_functions(record.tree, entry["qualname"], script=entry["script"])
    loop = frames.statement_at(record.view(nodes[0]).body, tuple(entry["path"]))
    values = loaded["frames"][len(meta["frames"]) - 1]
    iterator = values.get(loop.iterator) if loop.iterator else None
    inner, count = iterator, None
    if type(iterator) is enumerate and loop.iterator:
        # `for i, batch in enumerate(loader)`: the enumerate pickled as (its iterator, its
        # count); both go back one item (a new enumerate: its count cannot be set).
        inner, count = iterator.__reduce__()[1]  # type: ignore[misc]
    for pending, state in loaders._pending:
        if pending is inner and state.get("kind") == "torch" and state.get("yielded", 0) > 0:
            state["yielded"] -= 1
            if count is not None:
                values[loop.iterator] = enumerate(inner, count - 1)
            return
    from .restart import CannotRestore

    raise CannotRestore(
        f"rank {os.environ.get('RANK')} cannot be rebuilt from the replica: the loop at line {entry['line']} "
        "does not run over a DataLoader (directly or through enumerate()), so its item for this rank cannot be taken again"
    )


def _function_node(tree: ast.Module, entry: dict[str, Any]) -> ast.AST | None:
    from . import logical

    found = logical.find_functions(tree, entry["qualname"], script=entry["script"])
    return found[0] if found else None


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _distributed_samplers(groups: list[dict[str, Any]]) -> list[Any]:
    """The ``DistributedSampler``s among the loaded values and the loaders that hold them."""
    module = sys.modules.get("torch.utils.data.distributed")
    loader_module = sys.modules.get("torch.utils.data.dataloader")
    if module is None:
        return []
    from . import loaders

    found: dict[int, Any] = {}
    # A loop's DataLoader iterator, loaded as a blank its state rebuilds, refers to its loader.
    groups = [*groups, {str(i): state.get("loader") for i, (_, state) in enumerate(loaders._pending)}]
    for values in groups:
        for value in values.values():
            candidates = [value]
            if loader_module is not None and isinstance(value, loader_module.DataLoader):
                candidates += [value.sampler, getattr(value.batch_sampler, "sampler", None)]
            for candidate in candidates:
                if isinstance(candidate, module.DistributedSampler):
                    found[id(candidate)] = candidate
    return list(found.values())
