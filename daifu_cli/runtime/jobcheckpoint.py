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

Every file is written whole (a ``.partial`` renamed), the parts in an order that makes a
write cut short harmless: a checkpoint's payload before its ``.json``, that before
``rank-<r>.json``, the replica's part before ``job.json`` (see :func:`save`).

**Resuming.** A worker that torchrun restarted (``TORCHELASTIC_RESTART_COUNT`` > 0), started
without ``DAIFU_RESUME``, checks the earlier attempts' job checkpoints of the same run before
the program runs (:func:`usable`: whole, this output's, this user's; a survivor's own part,
else the replica's), and the ranks agree on the newest attempt every rank can use, or none
(:func:`agree_on_resume`). With one, the checkpoint is armed as ``daifu resume`` arms one
(:func:`.restart.arm`), and before its payload is loaded daifu sets up the default process
group the program had (backend and timeout as recorded), unless the program's own set-up
already did: the resumed function starts past its ``init_process_group``, and a pickled DDP
wrapper comes back bound to the default group. With none, every rank says why and the
program runs from its start, as torchrun alone would run it. ``DAIFU_JOB_RESUME=0`` turns
all of this off.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from . import (
    collectives,
    frames,
    groups,
    job,
    logical,
    optimizers,
    rank_values,
    steppoint,
    steps,
    trust,
)

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
    context = session.context if point.frame == 0 else _context(wheres[point.frame])
    # Batches the step done again goes back over: more than one with gradient accumulation
    # across iterations; every rank in agreement goes back as many (part of the point).
    back = _batches_to_redo(wheres[point.frame], point.path, context) if point.redo else 0
    mine = {
        "rank": channel.rank,
        "steps": steps.count,
        "point": [wheres[point.frame].qualname, list(point.path), point.redo, len(wheres) - point.frame, back],
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
    # Says that a part was begun: a restarted worker that finds no job.json can tell the
    # person that the write was cut short, not never started.
    _write_json(folder / f"writing-{channel.rank}.json", {"rank": channel.rank, "since": time.time()}, sync=False)
    rng = steps.rng_after_step if point.redo else None
    if point.redo and rng is None and steps.count > 0:
        raise NoJobCheckpoint("the random state after the last optimizer step was not recorded")
    if point.redo:
        refused = _loop_not_rebuildable(wheres[point.frame], point.path, context)
        if refused is not None:
            raise NoJobCheckpoint(refused)
    else:  # resumed at the failing statement: an in-place reduction must not add twice
        try:
            put_back = collectives.put_back(session.exc)
        except ValueError as why:
            raise NoJobCheckpoint(str(why)) from None
        if put_back:
            result["put_back"] = put_back
    script = wheres[point.frame].view.node.name == "__daifu_script__"
    prepared = restart.prepare(
        wheres[point.frame], context, script, home, f"job-{channel.rank}", _exception(session),
        copy=False, rng=rng, gradients=not point.redo,
    )
    shards = optimizers.sharded(
        {name: value for values in [*prepared.content["frames"], *prepared.content["globals"].values()]
         for name, value in values.items()}
    )
    if shards:  # what the rebuilt rank would need is gone with it
        gone = [r for r in range(channel.world) if r not in decision["own"]]
        raise NoJobCheckpoint(
            f"{shards[0]} holds only each rank's shard of the state: rank {', '.join(map(str, gone))}'s "
            "shard was lost with it and no other rank holds a copy"
        )
    entry = prepared.meta["frames"][-1]
    entry["path"] = list(point.path)
    if point.redo:
        entry["phase"] = "run"
    entry["line"] = frames.statement_at(wheres[point.frame].view.body, point.path).node.lineno
    refused = _iterator_not_saved(prepared.meta)
    if refused is not None:
        raise NoJobCheckpoint(refused)
    fault_for_test("payload")
    written = prepared.write(between=lambda: fault_for_test("description"))
    result["checkpoint"] = str(written.path)
    result["write_ms"] = round((time.perf_counter() - started) * 1000, 1)
    fault_for_test("rank-file")
    _write_json(folder / f"rank-{channel.rank}.json", {"rank": channel.rank, "checkpoint": str(written.path)})
    if channel.rank == replica:
        fault_for_test("job-file")
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
            "back": back,
            "process_group": _process_group(),
            "groups": groups.recipes(),
        }
        _write_json(folder / "job.json", record)
    return result


def _loop_not_rebuildable(where: frames.Where, path: tuple, context: Any) -> str | None:
    """Why the rank the job lost could not be rebuilt at the step's start, or ``None``: it
    takes the step's item again from its own data, by moving the loop's DataLoader iterator
    back one batch (:func:`_step_back`), directly or through ``enumerate``; another iterator
    cannot be moved back. Checked here,
    so that no rank of the restarted job resumes when one of them could not."""
    loop = frames.statement_at(where.view.body, path[:-2])
    line = loop.node.lineno
    if loop.iterator is None:
        return f"the loop at line {line} of the vaccinated {where.qualname}() is not a `for` loop over a DataLoader: the lost rank's item of the step cannot be taken again"
    iterator = _loop_iterator(where, path, context)  # `enumerate(loader)`: moved back through it
    module = sys.modules.get("torch.utils.data.dataloader")
    kinds = tuple(getattr(module, name) for name in ("_SingleProcessDataLoaderIter", "_MultiProcessingDataLoaderIter") if module is not None)
    if not kinds or type(iterator) not in kinds:
        return (
            f"the loop at line {line} of the vaccinated {where.qualname}() runs over a {type(iterator).__name__}, "
            "not a DataLoader: the lost rank's item of the step cannot be taken again"
        )
    return None


def _loop_iterator(where: frames.Where, path: tuple, context: Any) -> Any:
    """The DataLoader iterator (or whatever else) behind the loop whose iteration starts at
    *path*, through ``enumerate``; ``None`` where the loop keeps none."""
    loop = frames.statement_at(where.view.body, path[:-2])
    if loop.iterator is None:
        return None
    try:
        iterator = context.get(loop.iterator)
    except KeyError:
        return None
    if type(iterator) is enumerate:
        iterator = iterator.__reduce__()[1][0]  # type: ignore[index]
    return iterator


def _batches_to_redo(where: frames.Where, path: tuple, context: Any) -> int:
    """How many batches of the step loop the step done again takes again: those its iterator
    yielded since the last optimizer step. One without gradient accumulation (the failing
    iteration's); k where ``no_sync`` accumulates k batches per step: redoing only the failing
    iteration would step on its gradient alone. A loop over an iterator that did not exist at
    the last step (a new epoch's) counts from its first batch (gradients the previous epoch's
    last batches left to accumulate into this step are not taken again)."""
    iterator = _loop_iterator(where, path, context)
    since = steps.batches_since_step(iterator)
    if since is None:
        since = getattr(iterator, "_num_yielded", 1)
    return max(1, int(since))


def _iterator_not_saved(meta: dict[str, Any]) -> str | None:
    """Why a loop that the resumed job goes on with would have no iterator (it could not be
    saved: an iterable-style dataset, a generator), or ``None``. The restore would refuse it
    on every rank; refused here instead, so the restart starts over (said why)."""
    from . import registry, restart

    for index, entry in enumerate(meta["frames"]):
        record = registry.ModuleRecord(entry["module"], entry["file"], meta["sources"][entry["module"]])
        nodes = logical.find_functions(record.tree, entry["qualname"], script=entry["script"])
        if not nodes:
            continue
        for loop in restart._running_loops(record.view(nodes[0]), entry):
            prefix = f"{loop.iterator} (frame {index}): "
            lost = [item[len(prefix):] for item in meta.get("lost", []) if item.startswith(prefix)]
            if lost:
                return f"the loop at line {loop.node.lineno} of the vaccinated {entry['qualname']}() cannot go on in a new process: {lost[0]}"
    return None


#: A test's fault inside the job checkpoint's write: ``<phase>`` or ``<phase>:<signal>`` (``KILL``,
#: the default, or ``TERM``), in torchrun's first attempt only, on the ranks listed in
#: ``DAIFU_TEST_JOB_WRITE_RANKS`` (default: every survivor). Phases: ``payload`` (nothing of this
#: rank's part written yet), ``description`` (its payload written, the ``.json`` naming it not),
#: ``rank-file`` (its process checkpoint whole, ``rank-<r>.json`` not written), ``job-file``
#: (the replica, before ``job.json``).
_TEST_FAULT = "DAIFU_TEST_JOB_WRITE_FAULT"


def fault_for_test(phase: str) -> None:
    """The self-inflicted kill a test asks for at *phase* of the write (crashbench kills a
    rank at a phase the same way): a real signal, no mock."""
    wanted = os.environ.get(_TEST_FAULT)
    if not wanted or os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") != "0":
        return
    name, _, signal_name = wanted.partition(":")
    ranks = os.environ.get("DAIFU_TEST_JOB_WRITE_RANKS")
    if name != phase or (ranks and os.environ.get("RANK") not in ranks.split(",")):
        return
    import signal

    print(f"daifu: (test) rank {os.environ.get('RANK')} sends itself SIG{signal_name or 'KILL'} while writing its job checkpoint ({phase})", file=sys.stderr, flush=True)
    os.kill(os.getpid(), getattr(signal, f"SIG{signal_name or 'KILL'}"))


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


def _write_json(path: Path, value: dict[str, Any], sync: bool = True) -> None:
    trust.write_private(path, json.dumps(value, indent=1, default=str).encode("utf-8"), sync=sync)


# -- resuming ----------------------------------------------------------------------------------


class Usable(NamedTuple):
    """A job checkpoint this rank can resume from: checked whole, this output's, this user's."""

    attempt: int
    path: Path
    record: dict[str, Any]  # the job's record (with ``rebuild_from`` where rebuilt from the replica)
    checked: tuple[dict[str, Any], Path]  # :func:`.restart.read`'s answer


def usable(home: Path, rank: int, restart_count: int) -> tuple[list[Usable], list[tuple[int, str]]]:
    """The earlier attempts' job checkpoints this rank could resume from, newest first, and
    why the others cannot be used (for the person). Each is checked now as a resume would
    check it (:func:`.restart.read`: the payload whole, the output's, the user's): a bad one
    is passed over here, not refused once the program runs."""
    from . import restart

    found: list[Usable] = []
    notes: list[tuple[int, str]] = []  # (attempt, why it is not used as it is)
    for attempt in range(restart_count - 1, -1, -1):
        folder = attempt_folder(home, attempt)
        job_file = folder / "job.json"
        if not job_file.exists():
            notes.append((attempt, _why_none(folder)))
            continue
        refused = trust.untrusted_file(job_file)
        if refused is not None:  # it names the checkpoints this process would load (pickle)
            notes.append((attempt, f"not using {job_file}: {refused}"))
            continue
        try:
            record = json.loads(job_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            notes.append((attempt, f"{job_file} cannot be read ({exc})"))
            continue
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            notes.append((attempt, f"{job_file} is not a daifu job checkpoint"))
            continue
        record["attempt"] = attempt
        choices: list[tuple[Path, dict[str, Any]]] = []
        if rank in record.get("own", []) and rank != record.get("replica"):
            try:
                own = json.loads((folder / f"rank-{rank}.json").read_text(encoding="utf-8"))
                choices.append((Path(own["checkpoint"]), record))
            except (OSError, ValueError, KeyError, TypeError):
                # its survivor ended before its part was whole (killed while writing it)
                notes.append((attempt, f"rank {rank}'s own part is missing (rank-{rank}.json): rebuilt from the replica instead"))
        if rank == record.get("replica"):
            choices.append((Path(str(record.get("replica_checkpoint"))), record))
        else:
            choices.append((Path(str(record.get("replica_checkpoint"))), {**record, "rebuild_from": record.get("replica")}))
        for path, chosen in choices:
            try:
                checked = restart.read(path, home.parent)
            except restart.CannotRestore as why:
                notes.append((attempt, str(why)))
                continue
            found.append(Usable(attempt, path, chosen, checked))
            break
    return found, notes


def _why_none(folder: Path) -> str:
    """Why an earlier attempt has no ``job.json``: what its survivors said, or that it was
    never completed."""
    reasons = []
    for path in sorted(folder.glob("none-*.json")):
        try:
            reasons.append(str(json.loads(path.read_text(encoding="utf-8"))["reason"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if reasons:
        return f"its survivors wrote no job checkpoint ({'; '.join(dict.fromkeys(reasons))})"
    if any(folder.glob("writing-*.json")):
        return "its job checkpoint was never completed (no job.json: the replica ended while writing its part)"
    return "no job checkpoint was written (no rank of it left the job through daifu)"


def record_none(home: Path, rank: int, reason: str) -> None:
    """A survivor that cannot write its part says why, for the restarted workers' message."""
    try:
        _write_json(trust.private_dir(attempt_folder(home)) / f"none-{rank}.json", {"rank": rank, "reason": reason})
    except OSError:
        pass


#: Seconds a restarted worker waits for every rank's answer before deciding alone (the
#: workers of one attempt start together; the bound is for a rank that never says).
RESUME_WAIT = float(os.environ.get("DAIFU_RESUME_WAIT", "30"))


def agree_on_resume(home: Path, rank: int, world: int, mine: list[int]) -> tuple[int | None, str]:
    """Every rank of the restarted attempt resumes from the same attempt's checkpoint, or
    none does: a rank that resumed while another started over would meet it in other
    collectives (or hang). Each rank writes the attempts it can resume from into this
    attempt's folder; the first to have every rank's answer (or to give up waiting, or to have
    none) writes the one decision (created once: ``os.link`` fails where it exists), the newest
    attempt every rank can use, or none. Through files of the output, not the job's store:
    the store would need torch imported before the program imports it."""
    folder = trust.private_dir(attempt_folder(home) / "resume")
    _write_json(folder / f"rank-{rank}.json", {"rank": rank, "usable": mine, "pid": os.getpid()})
    decision_file = folder / "decision.json"
    # Files of a launch before this one (the same run id given again) are not this attempt's.
    fresh_since = time.time() - 120
    deadline = time.monotonic() + (RESUME_WAIT if mine else 0)
    while True:
        decided = _read_fresh(decision_file, fresh_since)
        if decided is not None:
            return decided.get("attempt"), str(decided.get("why", ""))
        answers = {r: _read_fresh(folder / f"rank-{r}.json", fresh_since) for r in range(world)}
        have = {r: a for r, a in answers.items() if a is not None}
        if len(have) == world or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    have[rank] = {"usable": mine}
    missing = [r for r in range(world) if r not in have]
    without = [str(r) for r, a in sorted(have.items()) if not a.get("usable")]
    common = set(mine)
    for answer in have.values():
        common &= set(answer.get("usable", []))
    if without:  # decided at once: the job starts over whatever the others can use
        attempt, why = None, f"rank(s) {', '.join(without)} have no usable job checkpoint"
    elif missing:
        attempt, why = None, f"rank(s) {', '.join(map(str, missing))} did not say within {RESUME_WAIT:g} s which job checkpoint they can use"
    elif not common:
        attempt, why = None, "the ranks have no job checkpoint in common"
    else:
        attempt, why = max(common), ""
    _create_once(decision_file, {"attempt": attempt, "why": why, "by": rank})
    decided = _read_fresh(decision_file, fresh_since) or {"attempt": attempt, "why": why}
    return decided.get("attempt"), str(decided.get("why", ""))


def _read_fresh(path: Path, since: float) -> dict[str, Any] | None:
    try:
        if path.stat().st_mtime < since:
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _create_once(path: Path, value: dict[str, Any]) -> None:
    """Write *path* only if no file is there (or only a stale one): the first decision stands."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{time.monotonic_ns()}.partial")
    trust.write_private(tmp, json.dumps(value).encode("utf-8"), sync=True)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            if _read_fresh(path, time.time() - 120) is None:  # a launch before this one's
                os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def resume_job() -> None:
    """In a worker torchrun restarted: arm the job's checkpoint, if an earlier attempt left
    one that every rank can use; otherwise say why the program runs from its start (the
    shim calls this where it would look at ``DAIFU_RESUME``)."""
    if not enabled():
        return
    from . import config as config_module
    from . import restart

    # Processes this one starts (a DataLoader's spawned workers run the program's modules
    # again) inherit the environment: they must not resume the job too.
    if os.environ.get("DAIFU_JOB_LOOKED", str(os.getpid())) != str(os.getpid()):
        return
    os.environ["DAIFU_JOB_LOOKED"] = str(os.getpid())
    try:
        restart_count = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        rank, world = int(os.environ["RANK"]), int(os.environ.get("WORLD_SIZE", "1"))
    except (KeyError, ValueError):
        return
    me = f"rank {rank}"
    try:
        home = config_module.load().home
        started = time.perf_counter()
        found, notes = usable(home, rank, restart_count)
        checked = time.perf_counter()
        attempt, why = agree_on_resume(home, rank, world, [u.attempt for u in found])
        timing = f"checked in {(checked - started) * 1000:.0f} ms, agreed in {(time.perf_counter() - checked) * 1000:.0f} ms"

    except Exception as exc:  # whatever went wrong, the restart is never worse than torchrun's
        attempt, why, found, notes, timing = None, f"looking for it failed ({type(exc).__name__}: {exc})", [], [], ""

    chosen = next((u for u in found if u.attempt == attempt), None)
    if chosen is None:
        reason = why if found else "; ".join(f"attempt {a}: {text}" for a, text in notes) or why
        print(
            f"daifu: {me}: no job checkpoint is used ({reason}): the program runs from its start, as torchrun alone would run it"
            + (f" ({timing})" if timing else ""),
            file=sys.stderr, flush=True,
        )
        return
    # What the person should know: why newer attempts were passed over, and how this one is used.
    said = [f"attempt {a}: {text}" for a, text in notes if a >= chosen.attempt]
    said += [f"attempt {u.attempt}: not usable on every rank" for u in found if u.attempt > chosen.attempt]
    record = chosen.record
    source = record.get("rebuild_from")
    how = f"rebuilt from rank {source}'s replica" if source is not None else "its own state"
    print(
        f"daifu: {me} resumes from the job checkpoint of attempt {attempt} "
        f"({record['steps']} optimizer steps, {record['point']}; {how}): {chosen.path}"
        + (f" ({'; '.join(said)})" if said else "") + f" ({timing})",
        file=sys.stderr,
        flush=True,
    )
    restart.arm(str(chosen.path), job=record, checked=chosen.checked)


def before_load(record: dict[str, Any]) -> None:
    """Set up the default process group the saved job had, if the program's own set-up did
    not (the resumed function starts past its ``init_process_group``), and the subgroups it
    made (:mod:`.groups`)."""

    import torch.distributed as dist

    if not dist.is_initialized():
        _init_default_group(record)
    skipped = groups.make_again(record.get("groups") or [])
    for item in skipped:
        print(f"daifu: not made again: {item}", file=sys.stderr, flush=True)


def _init_default_group(record: dict[str, Any]) -> None:
    import datetime

    import torch.distributed as dist

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
    if record.get("redo") and "torch" in loaded.get("rng", {}):
        # The step is done again from the state right after the previous one: the state a
        # second loss before this attempt's first step must redo it from as well.
        steps.rng_after_step = {"torch": loaded["rng"]["torch"]}
    source = record.get("rebuild_from")
    if record.get("redo") and (source is not None or _back(record) > 1):
        _step_back(loaded, meta, _back(record))
    if source is None:
        return []
    rank = int(os.environ["RANK"])
    samplers = _distributed_samplers([*loaded["frames"], *loaded["globals"].values()])
    for sampler in samplers:
        sampler.rank = rank
    outcome = rank_values.Outcome()
    # Module globals first: a function's variable may be computed from one (``args``).
    derived_globals: dict[str, set[str]] = {}
    for name, values in loaded["globals"].items():
        module = sys.modules.get(name)
        if module is None or name not in meta["sources"]:
            continue
        # The module's own set-up ran again in this process (before the saved function was
        # called): its statements that assign nothing ran for this rank already.
        derived_globals[name] = rank_values.recompute(ast.parse(meta["sources"][name]), values, {**vars(module), **values}, outcome)
    for index, entry in enumerate(meta["frames"]):
        module = sys.modules.get(entry["module"])
        namespace = dict(vars(module)) if module is not None else {}
        namespace.update(loaded["globals"].get(entry["module"], {}))
        node = _function_node(ast.parse(meta["sources"][entry["module"]]), entry)
        if node is None:
            continue
        rank_values.recompute(
            node, loaded["frames"][index], namespace, outcome,
            derived=derived_globals.get(entry["module"]), before_line=int(entry.get("line") or 0),
        )
    # Attributes set from the rank in functions that are not saved frames
    # (`self.global_rank = ...` in `__init__`, `args.rank = ...` in a set-up helper).
    rank_values.recompute_attributes(
        {name: meta["sources"][name] for name in meta["sources"] if name in sys.modules},
        [*loaded["frames"], *loaded["globals"].values()],
        outcome,
    )
    recomputed = list(dict.fromkeys(outcome.recomputed))
    notes = [
        f"rank {rank} resumes from rank {source}'s checkpoint: model and optimizer are the replica's; "
        f"{len(samplers)} DistributedSampler(s) set to rank {rank} (its data position follows from the step)"
        + (f"; computed again for this rank: {', '.join(recomputed)}" if recomputed else "")
    ]
    own_rng = _own_random_state(record, loaded, rank)
    if own_rng:
        notes.append(f"rank {rank}'s torch random generator is its own after step {record['steps']} ({own_rng}); "
                     f"not reconstructed: its Python and NumPy generators and its other variables are rank {source}'s")
    else:
        notes.append(f"not reconstructed for rank {rank}: its random generators and its other variables are rank {source}'s")
    if outcome.kept:
        notes.append(f"computed from the rank but not plain data, so rank {source}'s for rank {rank}: {', '.join(dict.fromkeys(outcome.kept))}")
    if outcome.not_run:
        notes.append(f"read the rank before the resume point and not run again for rank {rank}: {', '.join(dict.fromkeys(outcome.not_run))}")
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
    data (its loader's iterator is moved back one batch by :func:`_step_back`). Every rank
    does so where the step took more than one batch (gradient accumulation): each goes back
    to the first batch after the previous step."""
    if not record.get("redo") or (record.get("rebuild_from") is None and _back(record) <= 1):
        return
    entry = meta["frames"][-1]
    entry["path"] = entry["path"][:-2]
    entry["phase"] = "next"


def _back(record: dict[str, Any]) -> int:
    """Batches a step done again goes back over (records before it was kept: one)."""
    return max(1, int(record.get("back") or 1))


def _step_back(loaded: dict[str, Any], meta: dict[str, Any], back: int = 1) -> None:
    """Move the iterator of the loop the rank resumes at back by *back* items (it is still a
    DataLoader iterator's saved state: :mod:`.loaders` rebuilds it from that)."""
    from . import loaders, logical, registry

    entry = meta["frames"][-1]
    record = registry.ModuleRecord(entry["module"], entry["file"], meta["sources"][entry["module"]])
    nodes = logical.find_functions(record.tree, entry["qualname"], script=entry["script"])
    loop = frames.statement_at(record.view(nodes[0]).body, tuple(entry["path"]))
    values = loaded["frames"][len(meta["frames"]) - 1]
    iterator = values.get(loop.iterator) if loop.iterator else None
    inner: Any = iterator
    count: int | None = None
    if type(iterator) is enumerate and loop.iterator:
        # `for i, batch in enumerate(loader)`: the enumerate pickled as (its iterator, its
        # count); both go back one item (a new enumerate: its count cannot be set).
        reduced: Any = iterator.__reduce__()
        inner, count = reduced[1]
    for pending, state in loaders._pending:
        if pending is inner and state.get("kind") == "torch" and state.get("yielded", 0) >= back:
            state["yielded"] -= back
            if count is not None:
                values[loop.iterator] = enumerate(inner, count - back)
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
