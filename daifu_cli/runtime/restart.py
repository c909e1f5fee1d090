"""Resume a new process at the statement where an earlier one stopped.

**Saving.** At a crash (before waiting) the runtime writes a *process checkpoint*: for every
active vaccinated frame, outermost first, the function, the statement it is at (the failing
statement for the innermost, the call in progress for the others) and its variables, and the
module globals those modules hold (data only: modules, functions and classes come back when
the program's own set-up runs again). The values go into one pickle (torch's serialization
when torch is loaded), so an object several frames share comes back as one object. A loop's
iterator is saved at its element; a ``DataLoader`` iterator as what reproduces the rest of its
epoch (:mod:`.loaders`). A value that cannot be pickled (an open file, a generator, a loader
over an iterable-style dataset) is left out and named; a resume whose running loop needs it is
refused. The payload is written first, then the ``.json`` that describes it (with the
payload's SHA-256): a checkpoint exists only once it is whole.

**Restoring** (``daifu resume CHECKPOINT``, or ``DAIFU_RESUME=CHECKPOINT`` for launchers that
start the program themselves). The program starts again with its own arguments, and its
module-level set-up runs as usual: imports, definitions, model construction. When it calls
the outermost saved function, a trace hook (on only until the last frame is restored) raises
:class:`~.signals.Restore` at the first statement of its body; the function's own crash
barrier hands it here, and instead of running the body from the start the runtime builds the
continuation that a fix would get: the saved variables (and the module's saved globals, which
replace what the set-up made), resuming at the saved statement; a ``with`` or ``try ...
finally`` around it is entered again there (:mod:`.reentry` says which managers may be). That statement calls the next
saved function, which is restored the same way, down to the statement that failed. The saved
position is carried into the current code exactly as an in-process fix is
(:func:`align.map_crash`), so the source may be fixed (and re-vaccinated) before resuming.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import sys
import time
import types
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from . import (
    align,
    autograd,
    frames,
    functions,
    layout,
    loaders,
    logical,
    optimizers,
    payload,
    reentry,
    registry,
    resume,
    trust,
)
from .context import Context, context_class
from .signals import Restore

if TYPE_CHECKING:
    from .session import Session

FORMAT = "daifu-process-checkpoint/2"
#: Readable: format 1 checked its payload with a SHA-256 of all of it.
FORMATS = (FORMAT, "daifu-process-checkpoint/1")


class NotResumable(Exception):
    """The crash cannot be resumed in a new process, so no process checkpoint is written."""


class CannotRestore(Exception):
    """The checkpoint cannot be resumed here (said to the person, the process exits 2)."""


# -- saving ----------------------------------------------------------------------------------


def _worth_saving(value: Any, local: bool = False) -> bool:
    """Data, not program. A module's own modules, functions and classes come back when the
    program's set-up runs again, but not a lambda or closure it assigned (saved by value,
    :mod:`.functions`). A function's local variables are all state, whatever they hold (its
    nested defs, lambdas, local imports ran before the resumed statement, and do not run
    again): before, they were left out and the resumed function failed with
    ``UnboundLocalError``."""
    if callable(getattr(value, "__code__", None)):
        return False
    if local:
        return True
    if isinstance(value, types.FunctionType):
        return not functions.named(value)
    return not isinstance(value, (types.ModuleType, types.BuiltinFunctionType, type))


def _outer_frames(innermost: frames.Where, home: Path) -> tuple[list[frames.Where], list[str]]:
    """The vaccinated frames above the innermost invocation (innermost first), and the frames
    around them that a new process could not rebuild (library code calling user code)."""
    found: list[frames.Where] = []
    gaps: list[str] = []
    current = innermost.root_frame.f_back
    probe = Exception()  # no traceback: locate reads each frame's current line
    project = str(home.parent.resolve()) + os.sep
    while current is not None:
        where = frames.locate(probe, current) if registry.runs_vaccinated(current) else None
        if where is None:
            # The program's own code that daifu left as it was runs again as it ran the first
            # time (its statement in progress is re-run by the frame above); library code
            # (a framework's training loop) would start over instead.
            own = os.path.abspath(current.f_code.co_filename).startswith(project)
            if not own and not _transparent(current):
                gaps.append(f"{current.f_code.co_filename}:{current.f_lineno} in {current.f_code.co_name}")
            current = current.f_back
            continue
        found.append(where)
        current = where.root_frame.f_back
    return found, gaps


def _transparent(frame: FrameType) -> bool:
    """Frames that re-running the calling statement rebuilds: decorators of torch
    (``no_grad``, torchelastic's ``record``), functools wrappers, module ``__call__``, the
    program's entry, daifu's own."""
    code = frame.f_code
    name = code.co_filename.replace(os.sep, "/")
    return (
        frame.f_back is None
        or "/_daifu_shim/" in name
        or name.endswith(("/functools.py", "/contextlib.py", "/runpy.py"))
        or "/torch/utils/_contextlib.py" in name
        or (code.co_name in ("_call_impl", "_wrapped_call_impl") and "/torch/nn/" in name)
        # torchelastic's @record (in every torchrun example): calls the function, and only
        # writes an error file if it raises.
        or (code.co_name == "wrapper" and name.endswith("/torch/distributed/elastic/multiprocessing/errors/__init__.py"))
        or code.co_name in ("<module>",)
    )


def _entry(where: frames.Where, context: Context, script: bool) -> dict[str, Any]:
    from .session import _class_and_self, _params

    class_name, self_name = _class_and_self(where)
    names = context.user_names() if script else list(context.cells)
    values = {}
    for name in names:
        try:
            value = context.get(name)
        except KeyError:
            continue
        kept = name.startswith("_daifu_it_") or name == resume.HANDLED  # daifu's names that are state
        if kept or (not layout.is_generated_name(name) and _worth_saving(value, local=not script)):
            values[name] = value
    if script:  # the script's hoisted iterators (and handled exception) live in its cells
        for name, cell in context.cells.items():
            if name.startswith("_daifu_it_") or name == resume.HANDLED:
                try:
                    values[name] = cell.cell_contents
                except ValueError:
                    pass
    return {
        "meta": {
            "module": where.module.name,
            "file": where.module.path,
            "qualname": where.qualname,
            "code_name": where.root_frame.f_code.co_name,
            "script": script,
            "path": list(where.path),
            "phase": where.phase,
            "region": where.region,
            "line": where.module_line,
            "class_name": class_name,
            "self_name": self_name,
            "params": list(_params(where.view.node)),
        },
        "values": values,
    }


def save(session: Session, label: str, jit_view: dict[str, Any] | None = None, *, host_only: bool = False) -> Written:
    """Write the process checkpoint of *session*'s crash. *jit_view*: the just-in-time
    checkpoint's state dicts and numbers (:func:`.jit.collect`), stored in the same payload
    (then named ``.pt``): their tensors are the frames' tensors, so they are written once.
    *host_only*: after a CUDA error that poisons the context (:mod:`.device_lost`), where
    copying a GPU tensor would raise: the values holding one are left out and named."""
    assert session.where is not None
    exc = session.exc
    exception = f"{type(exc).__name__}: {exc}"
    return prepare(session.where, session.context, session.script, session.config.home, label, exception,
                   jit_view=jit_view, copy=False, host_only=host_only).write()


def prepare_running(frame: FrameType, label: str, *, copy: bool) -> Prepared:
    """The process checkpoint of a running program, at a statement boundary of *frame* (an
    innermost vaccinated frame, about to run the statement at its current line), taken now and
    written by :meth:`Prepared.write` (*copy*: later, from another thread, while the program
    runs on)."""
    from . import config as config_module
    from .context import capture

    where = frames.locate(Exception(), frame)
    if where is None:
        raise NotResumable("the running statement could not be placed")
    script = where.view.node.name == "__daifu_script__"
    context = where.continuation.context if where.continuation is not None else capture(where.qualname, where.frames, script=script)
    handled = sys.exc_info()[1]  # called from *frame*'s trace function: what it handles
    if _in_handler(entry_path=where.path) and handled is not None:
        context.set(resume.HANDLED, handled)  # a resumed `except ... as e` binds it again
    return prepare(where, context, script, config_module.load().home, label, None, copy=copy)


class Written(NamedTuple):
    path: Path  # the .json
    lost: list[str]
    payload: Path
    seconds: float  # writing the payload, fsync included
    size: int


class Prepared:
    """A process checkpoint taken (its payload serialized, :mod:`.payload`), not yet written."""

    def __init__(
        self, stem: Path, suffix: str, snapshot: payload.Snapshot, meta: dict[str, Any], seconds: float,
        content: dict[str, Any] | None = None,
    ) -> None:
        self.stem = stem
        #: What is saved: ``frames`` (a dict of variables per frame) and ``globals`` (per module).
        self.content = content or {"frames": [], "globals": {}}
        self.payload_path = stem.with_suffix(suffix)
        self.snapshot = snapshot
        self.meta = meta
        #: Serializing at the safe point (the program is blocked for this long).
        self.snapshot_seconds = seconds

    def write(self, between: Any = None) -> Written:
        """The payload first, the ``.json`` that describes it last: a checkpoint exists only
        once whole. *between*: called after the payload, before its description (a test's
        fault there)."""
        started = time.perf_counter()
        check, size = self.snapshot.write(self.payload_path)
        seconds = time.perf_counter() - started
        if between is not None:
            between()
        meta = {**self.meta, "payload": self.payload_path.name, "payload_check": check,
                "snapshot_ms": round(self.snapshot_seconds * 1000, 1), "write_ms": round(seconds * 1000, 1), "bytes": size}
        target = self.stem.with_suffix(".json")
        trust.write_private(target, json.dumps(meta, indent=1, default=str).encode("utf-8"), sync=True)
        return Written(target, meta["lost"], self.payload_path, seconds, size)


def prepare(innermost: frames.Where, context: Context, script: bool, home: Path, label: str, exception: str | None,
            *, jit_view: dict[str, Any] | None = None, copy: bool, rng: dict[str, Any] | None = None,
            gradients: bool = True, host_only: bool = False) -> Prepared:
    """*rng*: the random states to resume with (default: now); *gradients*: whether the
    parameters' gradients are kept (a job checkpoint that redoes the step drops the step's
    partial ones, see :mod:`.jobcheckpoint`); *host_only*: the device cannot be read (a CUDA
    error poisoned it): values on it are left out and listed, see :mod:`.device_lost`."""
    from .context import capture

    outer, gaps = _outer_frames(innermost, home)
    if gaps:  # a new process would run the library's loop from its start, not resume it
        raise NotResumable(f"called through library code that would start over ({'; '.join(gaps[:2])})")
    entries = [_entry(innermost, context, script)]
    for where in outer:
        script = where.view.node.name == "__daifu_script__"
        context = where.continuation.context if where.continuation is not None else capture(where.qualname, where.frames, script=script)
        entries.append(_entry(where, context, script))
    entries.reverse()  # outermost first: the order a new process restores them in
    modules = {e["meta"]["module"]: registry.modules[e["meta"]["module"]] for e in entries}
    global_values = {
        name: {k: v for k, v in vars(sys.modules[name]).items() if not k.startswith("__") and _worth_saving(v)}
        for name in modules
        if name in sys.modules
    }
    # The JIT view's keys at the top level, beside the frames': ``jit.load`` and a plain
    # ``torch.load(path)["states"]`` read the file as they read a JIT checkpoint of its own.
    # Its "rng" is this one (a superset of the JIT checkpoint's).
    content: dict[str, Any] = {
        **(jit_view or {}), "frames": [e["values"] for e in entries], "globals": global_values,
        "rng": {**_rng_states(device=not host_only), **rng} if rng is not None else _rng_states(device=not host_only),
    }
    reentry.flush_files(content["frames"])  # a new process appends to them after this
    started = time.perf_counter()
    pickling = _pickle_module(content)
    optimizers.take_left_out()  # from here on: what this checkpoint leaves out
    off_host = _drop_off_host(content, pickling) + _device_rng_lost() if host_only else []
    graphs = autograd.detach_graphs(_labelled(content))
    content["grads"] = autograd.gradients([*content["frames"], *content["globals"].values()]) if gradients else []
    lost = off_host + _drop_unpicklable(content, pickling) + graphs
    lost += optimizers.take_left_out()  # the probe above pickled every optimizer once
    snapshot = payload.snapshot(content, copy=copy, pickling=pickling)
    folder = trust.private_dir(home / "jit")
    meta = {
        "format": FORMAT,
        "created": time.time(),
        "pid": os.getpid(),
        "argv": sys.argv,
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "output": str(home.parent.resolve()),
        "serializer": snapshot.serializer,
        "frames": [e["meta"] for e in entries],
        "sources": {name: record.source for name, record in modules.items()},
        "lost": lost,
        "gaps": gaps,
        "exception": exception,
    }
    suffix = ".pt" if jit_view else ".state"
    return Prepared(
        _fresh(folder / f"{os.getpid()}-{label}"), suffix, snapshot, meta, time.perf_counter() - started, content
    )


def _fresh(stem: Path) -> Path:
    """*stem*, or a numbered variant no checkpoint uses: a new checkpoint never replaces one
    that stands (a write cut short would leave neither)."""
    candidate, number = stem, 1
    while any(candidate.with_name(candidate.name + suffix).exists() for suffix in (".json", *_PAYLOADS)):
        number += 1
        candidate = stem.with_name(f"{stem.name}-{number}")
    return candidate


def _rng_states(device: bool = True) -> dict[str, Any]:
    """Python's generator, NumPy's global one and torch's (CPU and every CUDA device, unless
    not *device*), where the program uses them: the resumed run draws the numbers the original
    would have."""
    import random

    states: dict[str, Any] = {"python": random.getstate()}
    numpy: Any = sys.modules.get("numpy")
    if numpy is not None:
        states["numpy"] = numpy.random.get_state()
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        states["torch"] = torch.get_rng_state()
        try:
            if device and torch.cuda.is_available() and torch.cuda.is_initialized():
                states["cuda"] = torch.cuda.get_rng_state_all()
        except Exception:
            pass
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    import random

    random.setstate(states["python"])
    if "numpy" in states:
        import numpy

        numpy.random.set_state(states["numpy"])
    if "torch" in states:
        import torch

        torch.set_rng_state(states["torch"])
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["cuda"])


def _pickle_module(content: dict[str, Any]) -> Any:
    """``pickle`` with the reducers of :mod:`.loaders` (a loader iterator is saved as what
    reproduces the rest of its epoch), :mod:`.optimizers` (an optimizer with its own
    attributes) and :mod:`.functions` (the program's lambdas and closures, by value), for
    ``torch.save``'s ``pickle_module``."""
    roots = [value for values in content["frames"] for value in values.values()]
    roots += [value for values in content["globals"].values() for value in values.values()]

    table = {**loaders.dispatch_table(roots), **optimizers.dispatch_table(), types.ModuleType: functions.reduce_module}

    class Pickler(pickle.Pickler):
        dispatch_table = table

        def reducer_override(self, value: Any) -> Any:
            return functions.reduce(value)  # a lambda or closure of the program's own

    module = types.ModuleType("daifu_checkpoint_pickle")
    module.Pickler = Pickler  # type: ignore[attr-defined]
    return module


#: Where a tensor's data can still be read after a CUDA error poisoned the context ("meta"
#: tensors have no data to read).
HOST_DEVICES = ("cpu", "meta")


class _OffHost(Exception):
    """A tensor storage outside host memory, met while probing a value."""


def _drop_off_host(content: dict[str, Any], pickling: Any, keep: tuple[str, ...] = HOST_DEVICES) -> list[str]:
    """Take out the values that hold a tensor whose storage is on a device not in *keep*,
    naming each: after a CUDA error that poisons the context, copying one to the host would
    raise. Decided from the storages' ``device`` (metadata): no data is read."""

    def check(tensor_or_storage: Any) -> None:
        # A TypedStorage warns that it is deprecated when asked for its device; its untyped one does not.
        device = getattr(tensor_or_storage, "_untyped_storage", tensor_or_storage).device
        if device.type not in keep:
            raise _OffHost(str(device))

    lost: list[str] = []
    for values, label in _labelled(content):
        for name in list(values):
            try:
                payload.probe(values[name], pickling, seen=check)
            except _OffHost as device:
                kind = type(values[name]).__name__
                lost.append(f"{label.format(name)}: {kind} holds tensors on {device}, which cannot be copied "
                            "after the CUDA error")
                del values[name]
            except Exception:  # cannot be pickled at all: said by _drop_unpicklable
                pass
    return lost


def _device_rng_lost() -> list[str]:
    torch: Any = sys.modules.get("torch")
    try:
        initialized = torch is not None and torch.cuda.is_initialized()
    except Exception:
        initialized = False
    if not initialized:
        return []
    return ["torch.cuda random generator states: cannot be read after the CUDA error (a resumed run draws "
            "other random numbers on the GPU)"]


def _drop_unpicklable(content: dict[str, Any], pickling: Any) -> list[str]:
    """Take out the values pickle refuses, naming each. Probed without tensor data (a failed
    real write would cost a whole write): the whole first, value by value if that fails."""
    try:
        payload.probe(content, pickling)
        return []
    except Exception:
        pass
    lost: list[str] = []
    for values, label in _labelled(content):
        for name in list(values):
            try:
                payload.probe(values[name], pickling)
            except loaders.CannotSave as exc:  # a loader iterator: say why, not just that
                kind = type(values[name]).__name__
                lost.append(f"{label.format(name)}: {kind} cannot be saved: {exc}")
                del values[name]
            except Exception as exc:
                # pickle's message names what inside it could not be saved (a lambda, a lock)
                kind, first = type(values[name]).__name__, (str(exc).splitlines() or [""])[0]
                detail = f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__
                lost.append(f"{label.format(name)}: {kind} cannot be saved ({detail})")
                del values[name]
    return lost


def _labelled(content: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The payload's groups of values, each with how to name one of them (``{}``: its name)."""
    groups = [(values, f"{{}} (frame {index})") for index, values in enumerate(content["frames"])]
    groups += [(values, f"{module}.{{}}") for module, values in content["globals"].items()]
    return groups


# -- reading -----------------------------------------------------------------------------------


def read(path: str | os.PathLike[str], output: Path | None = None, *, data: bool = True) -> tuple[dict[str, Any], Path]:
    """The checkpoint's description and the path of its payload, checked: whole, daifu's, of
    this output, and written by this user (*data*: every record against its CRC too, else
    only the payload's directory). Raises :class:`CannotRestore` with the reason."""
    path = Path(path)
    unfinished = _unfinished(path)
    if unfinished is not None:
        raise CannotRestore(
            f"{path} is a checkpoint whose write never finished (the process ended while writing "
            f"{unfinished.name}); use an earlier checkpoint"
        )
    refused = trust.untrusted_file(path)
    if refused is not None:
        raise CannotRestore(f"refusing {path}: {refused} (loading a checkpoint runs pickle)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CannotRestore(f"cannot read {path}: {exc}") from None
    except ValueError:
        raise CannotRestore(f"{path} is not a daifu process checkpoint (not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") not in FORMATS:
        raise CannotRestore(f"{path} is not a daifu process checkpoint (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    payload_path = path.with_name(str(meta.get("payload")))
    refused = trust.untrusted_file(payload_path)
    if refused is not None:
        raise CannotRestore(f"refusing {payload_path}: {refused}")
    # Format 1 hashed the whole payload.
    check = meta.get("payload_check") or {"kind": payload.SHA256, "digest": meta.get("payload_sha256")}
    if not data and check["kind"] == payload.ZIP_CRC:
        check = {**check, "data": False}
    try:
        payload.verify(payload_path, check)
    except payload.Damaged as why:
        raise CannotRestore(f"its state file {payload_path} is incomplete or changed ({why}); use an earlier checkpoint") from None
    except OSError as exc:
        raise CannotRestore(f"its state file {payload_path} cannot be read ({exc.strerror})") from None
    if output is not None and Path(meta.get("output", "")).resolve() != output.resolve():
        raise CannotRestore(f"it belongs to the output {meta.get('output')}, not to {output}")
    return meta, payload_path


#: The suffixes of a payload: ``.pt`` where it holds a JIT checkpoint's view too.
_PAYLOADS = (".state", ".pt")


def _unfinished(path: Path) -> Path | None:
    """The partial payload of a checkpoint that was being written when its process died
    (SIGKILL, power): *path* is that file, its payload, or the ``.json`` never written."""
    if path.name.endswith(tuple(f"{suffix}.partial" for suffix in _PAYLOADS)):
        return path
    stem = path.stem if path.suffix in (".json", *_PAYLOADS) else path.name
    if path.with_name(f"{stem}.json").exists():
        return None
    for suffix in _PAYLOADS:
        for written in (path.with_name(f".{stem}{suffix}.partial"), path.with_name(f"{stem}{suffix}")):
            if written.exists():  # the payload (whole or not), but not the description written last
                return written
    return None


# -- restoring -------------------------------------------------------------------------------

_plan: dict[str, Any] | None = None


def arm(path: str, job: dict[str, Any] | None = None, checked: tuple[dict[str, Any], Path] | None = None) -> None:
    """Called by the shim in a process started with ``DAIFU_RESUME``: check the checkpoint
    now (a bad one ends the process before the program does anything), restore later.
    *job*: the job checkpoint's record, for a torchrun worker resuming a job
    (:mod:`.jobcheckpoint`)."""
    global _plan
    from . import config as config_module

    home = config_module.load().home
    try:  # *checked*: :func:`read`'s answer, where the caller read it just now
        meta, payload_path = checked if checked is not None else read(path, home.parent)
    except CannotRestore as exc:
        _refuse(str(exc))
    if meta.get("gaps"):
        _refuse(
            "the saved functions were called through library code that would start over "
            f"instead of resuming ({'; '.join(meta['gaps'][:3])})"
        )
    if job is not None:
        from . import jobcheckpoint

        jobcheckpoint.adjust(meta, job)
    _plan = {"meta": meta, "payload": payload_path, "next": 0, "values": None, "restored_globals": set(), "path": path,
             "job": job}
    for item in meta.get("lost", []):
        print(f"daifu: not in the checkpoint: {item}", file=sys.stderr)
    import atexit

    atexit.register(_never_reached)
    sys.settrace(_on_call)


def _never_reached() -> None:
    plan = _plan
    if plan is not None and plan["next"] < len(plan["meta"]["frames"]):
        entry = plan["meta"]["frames"][plan["next"]]
        print(
            f"daifu: the program ended without calling {entry['qualname']}() of {entry['module']}, "
            f"so the checkpoint {plan['path']} was not resumed (frame {plan['next'] + 1} of "
            f"{len(plan['meta']['frames'])}); what ran was the program from its start",
            file=sys.stderr,
        )


def _refuse(reason: str) -> None:
    print(f"daifu: cannot resume: {reason}", file=sys.stderr, flush=True)
    os._exit(2)


def _on_call(frame: FrameType, event: str, arg: Any) -> Any:
    """Global trace while frames remain to restore: find the call of the next saved function."""
    plan = _plan
    if plan is None or event != "call":
        return None
    entry = plan["meta"]["frames"][plan["next"]]
    if frame.f_code.co_name != entry["code_name"] or frame.f_globals.get("__name__") != entry["module"]:
        return None
    module = registry.module_for(frame.f_globals)
    node = module.def_for(frame.f_code) if module is not None else None
    qualname = getattr(frame.f_code, "co_qualname", entry["qualname"])  # 3.11+: exact
    if node is None or module is None:
        if qualname == entry["qualname"]:
            _refuse(f"{entry['qualname']}() is not vaccinated in the current code (was it changed or excluded?)")
        return None
    if module.qualname_of(node) != entry["qualname"]:
        return None
    barrier = next((s for s in node.body if isinstance(s, ast.Try)), None)
    if barrier is None:
        _refuse(f"{entry['qualname']}() is not vaccinated in the current code (was it changed or excluded?)")
        return None
    first = barrier.body[0].lineno
    catching = _handlers_that_could_catch(barrier.body, frame.f_globals)
    if catching:
        _refuse(
            f"{entry['qualname']}() starts with a `try` whose `{catching}` would catch the restore "
            "before its crash barrier; put a statement before that `try` (and vaccinate again)"
        )
        return None
    covered = _covered_offsets(frame.f_code)

    def at_first_statement(frame: FrameType, event: str, arg: Any) -> Any:
        # Raised where the barrier's handler covers the instruction. On 3.11+ a `try:` (or
        # `while True:`) line is a NOP that no handler covers, so an exception raised there
        # leaves the function: wait for the next line (inside that `try`, whose handlers were
        # checked above to let Restore pass).
        if event == "line" and frame.f_lineno >= first and (covered is None or frame.f_lasti in covered):
            raise Restore(entry)  # caught by the function's own barrier (tracing stops here)
        return at_first_statement

    return at_first_statement


def _covered_offsets(code: Any) -> set[int] | None:
    """Instruction offsets some exception handler covers (3.11+'s exception table); ``None``
    where the interpreter uses a block stack instead (3.9, 3.10: every offset inside the
    barrier's ``try`` is covered once its setup ran)."""
    import dis

    parse = getattr(dis, "_parse_exception_table", None)
    if parse is None or not hasattr(code, "co_exceptiontable"):
        return None
    covered: set[int] = set()
    for item in parse(code):
        covered.update(range(item.start, item.end + 1, 2))
    return covered


def _handlers_that_could_catch(body: list[ast.stmt], namespace: dict[str, Any]) -> str | None:
    """The handler of a `try` that opens *body* (or opens the first `try`'s body, and so on)
    that could catch :class:`Restore` on its way to the barrier: a bare ``except``, or a type
    that is not known to be an ``Exception`` subclass (``BaseException``, an unknown name)."""
    import builtins

    while body and isinstance(body[0], ast.Try):
        for handler in body[0].handlers:
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            for node in types:
                if node is None:
                    return "except:"
                value = namespace.get(node.id, getattr(builtins, node.id, None)) if isinstance(node, ast.Name) else None
                if not (isinstance(value, type) and issubclass(value, Exception)):
                    return f"except {ast.unparse(node)}"
        body = body[0].body
    return None


def continue_frame(exc: Restore, frame: FrameType) -> Any:
    """The barrier of the next saved function caught :class:`Restore`: the continuation that
    resumes it at its saved statement, with its saved variables."""
    plan = _plan
    assert plan is not None
    entry = exc.entry
    index = plan["next"]
    plan["next"] += 1
    try:
        function = _continuation(plan, index, entry, frame)
    except CannotRestore as failure:
        _refuse(str(failure))
    last = plan["next"] >= len(plan["meta"]["frames"])
    sys.settrace(None if last else _on_call)
    where = f"{entry['qualname']}() at line {entry['line']} of the vaccinated {os.path.basename(entry['file'])}"
    print(f"daifu: restored {where} from {plan['path']}", file=sys.stderr, flush=True)
    if last:
        _journal_restored(plan)
    return function


def _continuation(plan: dict[str, Any], index: int, entry: dict[str, Any], frame: FrameType) -> Any:
    module = registry.module_for(frame.f_globals)
    assert module is not None
    node = module.def_for(frame.f_code)
    assert node is not None
    view = module.view(node)
    if entry["script"]:
        _define(view, entry, frame.f_globals, module.path)
    if plan["values"] is None:
        record = plan.get("job")
        try:
            if record is not None:  # a pickled DDP wrapper binds to the default process group
                from . import jobcheckpoint

                jobcheckpoint.before_load(record)
            loaded = payload.load(plan["payload"], plan["meta"].get("serializer"))
            if record is not None:  # a rank rebuilt from a replica: its own rank put back
                for note in jobcheckpoint.after_load(record, loaded, plan["meta"]):
                    print(f"daifu: {note}", file=sys.stderr, flush=True)
            loaders.finish()  # the loader iterators, at their saved positions
        except loaders.CannotSave as exc:
            raise CannotRestore(f"a data loader's position cannot be restored: {exc}") from None
        except CannotRestore:
            raise
        except Exception as exc:
            raise CannotRestore(f"its state cannot be loaded here ({type(exc).__name__}: {exc})") from None
        _set_rng_states(loaded["rng"])
        autograd.restore_gradients(loaded.get("grads", []))
        plan["values"] = loaded
    values: dict[str, Any] = plan["values"]
    if entry["module"] not in plan["restored_globals"]:
        plan["restored_globals"].add(entry["module"])
        frame.f_globals.update(values["globals"].get(entry["module"], {}))
    saved = registry.ModuleRecord(entry["module"], entry["file"], plan["meta"]["sources"][entry["module"]])
    saved_nodes = logical.find_functions(saved.tree, entry["qualname"], script=entry["script"])
    if not saved_nodes:
        raise CannotRestore(f"{entry['qualname']}() is not in the saved source")
    saved_view = saved.view(saved_nodes[0])
    try:
        position = align.map_crash(saved_view, view, tuple(entry["path"]), entry["phase"])
        # Blocks that ran in cells (a `with` body, a `try` with `finally`) are entered again
        # at the saved statement, as after a fix that wraps the running statements.
        position = reentry.enter_blocks(view, position, values["frames"][index], frame.f_globals)
    except (align.CannotMap, reentry.CannotEnter) as failure:
        raise CannotRestore(f"{entry['qualname']}(): {failure}") from None
    context = context_class(entry["qualname"], tuple(entry["params"]))(entry["qualname"], frame.f_globals, entry["script"])
    for name, value in values["frames"][index].items():
        if entry["script"] and not name.startswith("_daifu_"):
            context.globals[name] = value
        else:
            context.cell(name).cell_contents = value
    if _in_handler(tuple(entry["path"])) and resume.HANDLED not in values["frames"][index]:
        raise CannotRestore(
            f"{entry['qualname']}(): it stopped inside an `except` block (line {entry['line']} of the vaccinated "
            "file), and the exception that block handles is not in the checkpoint"
        )
    for loop in _running_loops(saved_view, entry):
        if loop.iterator not in values["frames"][index]:
            raise CannotRestore(_unsaved_iterator(entry, plan["meta"], index, loop))
    graphs = _graphs_needed(view, position, _lost_graphs(plan["meta"], index))
    if graphs:
        raise CannotRestore(
            f"{entry['qualname']}(): it stopped between a forward pass and its backward: "
            f"{', '.join(graphs)} held an autograd graph no checkpoint can hold, and the backward() "
            "still to come in this step would go through it; resume from a checkpoint taken at "
            "another point of the step (SIGUSR1 and SIGTERM wait for the loop's next step), or "
            "restart the step"
        )
    built = resume.build(
        view, position, context, module=module, qualname=entry["qualname"],
        class_name=entry["class_name"], self_name=entry["self_name"],
    )
    return built.function


def _lost_graphs(meta: dict[str, Any], index: int) -> list[str]:
    """Variables of saved frame *index* that held an autograd graph (saved detached)."""
    marker = f" (frame {index}): its autograd graph cannot be saved"
    return [item.split(marker)[0] for item in meta.get("lost", []) if marker in item]


def _graphs_needed(view: logical.Function, position: align.Position, names: list[str]) -> list[str]:
    """Those of *names* (variables whose graph was lost) that the rest of this step reads,
    before assigning them again, ahead of a ``backward()`` call: from the resume position to
    the end of its block, and of each enclosing block up to the innermost loop's body (past it
    a new forward makes a new graph). A loss from the previous step, assigned again by this
    step's forward before its backward, is not needed."""
    remaining, read = set(names), set()
    for unit in _step_ahead(view, position):
        nodes = list(ast.walk(unit))
        read |= remaining & {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if read and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward" for n in nodes):
            return sorted(read)
        remaining -= {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return []


def _step_ahead(view: logical.Function, position: align.Position) -> Any:
    """The statements (and compound statements' headers) the step runs from *position* on, in
    source order (both branches of an ``if``)."""
    block: tuple = position.block
    start = position.index
    while True:
        yield from _units(resume.block_at(view, block)[start:])
        if not block:
            return
        owner = frames.statement_at(view.body, block[:-1])
        if isinstance(owner.node, (ast.For, ast.AsyncFor, ast.While)) and block[-1] == "body":
            return
        block, start = block[:-2], block[-2] + 1


def _units(stmts: logical.Block) -> Any:
    for stmt in stmts:
        if not stmt.blocks:
            yield stmt.node
            continue
        if stmt.hoist is not None:
            yield stmt.hoist
        for name, value in ast.iter_fields(stmt.node):  # the header: test, target, items, ...
            if name not in ("body", "orelse", "finalbody", "handlers", "cases") and isinstance(value, (ast.AST, list)):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, ast.AST):
                        yield item
        for _, block in stmt.children():
            yield from _units(block)


def _in_handler(entry_path: tuple) -> bool:
    """Whether the statement at *entry_path* is inside an ``except`` block of its function."""
    return any(str(name).startswith("handler") for name in entry_path[1::2])


def _running_loops(view: logical.Function, entry: dict[str, Any]) -> list[logical.Stmt]:
    """The ``for`` loops of the saved position that were running: those around it, and the
    statement itself when it stopped taking its next item."""
    path = tuple(entry["path"])
    loops = [frames.statement_at(view.body, path[:end]) for end in range(1, len(path), 2) if path[end] == "body"]
    if entry["phase"] == "next":
        loops.append(frames.statement_at(view.body, path))
    return [loop for loop in loops if loop.iterator is not None]


def _unsaved_iterator(entry: dict[str, Any], meta: dict[str, Any], index: int, loop: logical.Stmt) -> str:
    """Why a running loop cannot go on (a new iterator would start it over): the loop as
    written, and why its iterator is not saved."""
    name, node = str(loop.iterator), loop.node
    assert isinstance(node, ast.For) and loop.hoist is not None
    iterable = loop.hoist.value.args[0]  # type: ignore[attr-defined]
    target = node.target
    if isinstance(target, ast.Tuple) and len(target.elts) > 1:  # as written: no parentheses
        names = ", ".join(ast.unparse(element) for element in target.elts)
    else:
        names = ast.unparse(target)
    header = f"for {names} in {ast.unparse(iterable)}"
    line = name.rpartition("_L")[2]
    prefix = f"{name} (frame {index}): "
    reasons = [item[len(prefix) :] for item in meta.get("lost", []) if item.startswith(prefix)]
    why = reasons[0] if reasons else "it was not saved"
    return (
        f"{entry['qualname']}(): the loop `{header}` (line {line}) goes on with its iterator, "
        f"which is not in the checkpoint: {why}"
    )


_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _define(view: logical.Function, entry: dict[str, Any], namespace: dict[str, Any], filename: str) -> None:
    """Script-level code restored at a statement skips what came before it, and that includes
    its imports, functions and classes: the program's, not its data. Run those (only those,
    at the top level before the saved statement) so names resolve and saved objects of the
    program's own classes can be loaded."""
    first = entry["path"][0]
    nodes: list[ast.stmt] = [s.node for s in view.body[:first] if isinstance(s.node, _DEFINITIONS)]
    if nodes:
        code = compile(ast.Module(body=nodes, type_ignores=[]), filename, "exec", dont_inherit=True)
        exec(code, namespace)


def _journal_restored(plan: dict[str, Any]) -> None:
    from . import config as config_module
    from . import journal

    journal.Journal(config_module.load().home).event(
        "restored", checkpoint=str(plan["path"]), frames=len(plan["meta"]["frames"])
    )
