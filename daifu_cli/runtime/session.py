"""A crash the barrier intercepted: report it, capture the function's state, let automatic
policies try, wait for a fix, and return the *plan* that resumes.

The barrier calls the plan once its ``except`` block is over (so the traceback and the frames
it holds are freed): the plan runs the continuation. Imported only on a crash (or to adapt a
loop over an iterator without ``__iter__``).
"""

from __future__ import annotations

import ast
import functools
import os
import sys
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from . import (
    align,
    frames,
    jit,
    job,
    journal,
    logical,
    policy,
    registry,
    regroup,
    report,
    resume,
    wrapping,
)
from . import config as config_module
from .barrier import mark
from .context import Context, capture, release
from .device_lost import lost_context
from .signals import Resumed

_checkpoints = 0


@dataclass
class Decision:
    kind: str  # "resume", "skip", "raise", "exit"
    exit_code: int = 1
    free_memory: bool = False
    origin: str = "console"


class Session:
    """One intercepted crash of one function invocation, until it resumes or gives up."""

    def __init__(self, exc: BaseException, where: frames.Where, config: config_module.Config) -> None:
        self.exc: BaseException | None = exc
        self.where: frames.Where | None = where
        self.config = config
        self.journal = journal.Journal(config.home)
        self.module = where.module
        self.qualname = where.qualname
        self.old_view = where.view
        self.view = where.view
        #: The module generation the crashed code comes from, and the one ``self.view`` is
        #: read from (the newest after a fix switched the code).
        self.old_generation = where.generation
        self.view_generation = where.generation
        self.path = where.path
        self.phase = where.phase
        self.script = where.view.node.name == "__daifu_script__"
        self.site = where.site
        self.module_line = where.module_line
        if where.continuation is not None:
            self.context: Context = where.continuation.context
            overlay = capture(self.qualname, where.frames, script=self.script)
            for name, cell in overlay.cells.items():
                self.context.cells.setdefault(name, cell)
                if name.startswith("_daifu_it_"):
                    self.context.cells[name] = cell
        else:
            self.context = capture(
                self.qualname, where.frames, script=self.script, params=_params(where.view.node)
            )
        handled_exc = _handled_exception(exc)
        if handled_exc is not None:
            self.context.set(resume.HANDLED, handled_exc)
        self.class_name, self.self_name = _class_and_self(where)
        self.built: resume.Built | None = None
        self.fix_landed = time.perf_counter()
        self.crashed_at = time.time()
        self.lines: list[str] = []
        self.old_code_note = ""
        #: Set by :meth:`hold`: this rank did not crash, another rank of the job did.
        self.holding = False
        self.held_for = ""
        #: Set by :meth:`hold_for_regroup`: the gradient all-reduce to re-run in the new group.
        self.regroup_redo: regroup.Redo | None = None
        #: Why the job ended while this rank waited (another rank gave up or was lost).
        self.job_ended = ""
        #: In a distributed job: this rank, and how many crashed at the same statement.
        self.job_note = ""
        if self.old_generation is not self.module.current:
            # The frame runs code from before a fix of its module (it started before the fix
            # landed): whatever resumes it, a retry included, goes on in the newest code, as
            # when a fix lands while it waits. The fix may even have changed the failing line.
            # If the crash cannot be mapped there, it resumes in the code it ran.
            try:
                self.switch_code()
                align.map_crash(self.old_view, self.view, self.path, self.phase)
                self.old_code_note = "`retry` runs the fixed code"
            except align.CannotMap as why:
                self.keep_running_code()
                self.old_code_note = f"`retry` runs it as it was ({why})"
        self.report_line, self.report_generation = self._report_position()
        # The crash event says where the exception happened, in the code that ran (a frame older
        # than a fix: its own line); the location (waiting state, report) where it resumes.
        crash_text, crash_line, _ = report.user_location(
            self.module.path, self.module_line, config.home, generation=self.old_generation
        )
        self.crash_location = {"file": crash_text, "line": crash_line, "function": self.qualname}

    # -- intercept ------------------------------------------------------------------------

    def intercept(self) -> Any:
        exc = self.exc
        assert exc is not None and self.where is not None
        home = self.config.home
        where_text, line, _ = report.user_location(
            self.module.path, self.report_line, home, generation=self.report_generation
        )
        self.location = {"file": where_text, "line": line, "function": self.qualname}
        self.journal.event(
            "crash",
            exception=type(exc).__name__,
            message=str(exc)[:500],
            **self.crash_location,
            phase=self.phase,
        )
        if self.old_generation is not self.module.current:
            self.say(f"daifu: note: this code started before the last fix; {self.old_code_note}")
        device_error = lost_context(exc)
        if device_error is not None:  # nothing can run on the GPU again in this process
            return self.end_device_lost(device_error)
        lost = job.lost_rank(exc)
        if lost is not None:
            redo = regroup.after_timeout(exc, self.where.frames[0])
            if isinstance(redo, regroup.Redo):  # the pause timed it out: hold, regroup after the fix
                return self.hold_for_regroup(redo, exc)
            if redo is not None:
                lost = f"{lost}; daifu cannot re-create the process group here: {redo}"
            return self.leave_job(lost)  # no retry brings a dead peer back: leave the job
        decision = policy.automatic(self, exc)
        if decision is None:
            if not self.config.wait:
                return self.give_up("waiting is off (DAIFU_WAIT=0)")
            first = self.publish_crash()
            self.checkpoints()
            if first:
                self.count_ranks_here()  # after the checkpoints: the wait overlaps them
                self.print_report()
            from .waiting import wait_for_fix

            decision = wait_for_fix(self)
        return self.after_wait(decision)

    def after_wait(self, decision: Decision) -> Any:
        """Carry out what ended the wait (for a crash or a hold)."""
        if decision.kind in ("raise", "exit"):
            self.checkpoint_changes()  # the state as the console or a snippet left it
        why = {"max-wait": "maximum wait reached", "interrupt": "interrupted while waiting (Ctrl+C)"}
        if decision.kind == "raise" and self.holding:
            # No exception of the program's to let go: a holding rank given up (the maximum
            # wait, `raise` at its console) ends, and the job with it.
            reason = f"gave up holding ({why.get(decision.origin, 'given up')})"
            job.gave_up(reason)
            self.journal.state("ended", how=reason)
            self.say(f"daifu: rank {job.rank()} {reason}: it ends, and the job with it{self._checkpoint_note()}")
            job.end_within(30.0)
            raise SystemExit(1)
        if decision.kind == "raise":
            job.gave_up(f"gave up its crash ({why.get(decision.origin, 'given up')})")
            return self.give_up(why.get(decision.origin, "given up"))
        if decision.kind == "exit":
            if decision.origin == "job":
                how = f"ended with the job ({self.job_ended})"
            else:
                how = f"exited with status {decision.exit_code} from the console"
                job.gave_up(f"exited from the console (status {decision.exit_code})")
                self.say(f"daifu: exiting with status {decision.exit_code} from the console{self._checkpoint_note()}")
            self.journal.state("ended", how=how)
            job.end_within(30.0)
            raise SystemExit(decision.exit_code)
        if self.built is None:
            self.prepare(skip=decision.kind == "skip")
        job.resumed()  # first: the ranks holding for this one go on, and meet it in the regroup
        self.rejoin_job()
        self.journal.state("running", **job.describe())
        return self.plan(decision)

    # -- distributed jobs -----------------------------------------------------------------

    def publish_crash(self) -> bool:
        """Tell the other ranks of the job (if any) that this one crashed and waits; whether
        this rank gives the report (the first to crash at this statement)."""
        if not job.active():
            return True
        assert self.exc is not None
        turn = job.crashed(self.location, self.exc)
        rank = job.rank()
        if turn > 1:
            self.say(
                f"daifu: rank {rank} crashed at the same statement ({type(self.exc).__name__} at "
                f"{self.location['file']}:{self.location['line']}): reported once, by the first rank; "
                "one fix reaches every rank"
            )
            return False
        return True

    def count_ranks_here(self) -> None:
        """How many ranks crashed at this statement, for the one report (see
        :func:`job.same_site_count`: at most 1 s after the crash, less once every rank saw it)."""
        if not job.active():
            return
        assert self.exc is not None
        count = job.same_site_count(self.location, self.exc, within=1.0)
        world = job.describe().get("world")
        self.job_note = f", rank {job.rank()}, on {count} of {world} ranks"

    def hold(self, crashes: list[dict[str, Any]] | None = None, note: str = "") -> Any:
        """Another rank crashed: wait here, at a statement this rank has not run yet, until
        the crashed ranks resume (then retry it in the newest code) or the job ends."""
        exc = self.exc
        assert exc is not None
        self.holding = True
        job.holding()
        where_text, line, _ = report.user_location(
            self.module.path, self.report_line, self.config.home, generation=self.report_generation
        )
        self.location = {"file": where_text, "line": line, "function": self.qualname}
        if crashes is None:
            crashes = getattr(exc, "crashes", [])
        elsewhere = job.crash_text(crashes)
        self.held_for = elsewhere
        self.journal.event("hold", crashed=crashes, **self.location, **job.describe())
        self.checkpoints()
        self.say(
            f"daifu: rank {job.rank()} holds in {self.qualname}() at {where_text}:{line} (pid {self.journal.pid}): "
            f"{elsewhere}; {note or 'it goes on when the fix lands there'}"
        )
        from .waiting import wait_for_fix

        return self.after_wait(wait_for_fix(self))

    def hold_for_regroup(self, redo: regroup.Redo, exc: BaseException) -> Any:
        """This rank's gradient all-reduce timed out while another rank waited for a fix (or
        broke as the job re-creates its group): hold, and after the fix re-run the all-reduce
        in the job's new process group, then go on after the ``backward()``."""
        self.regroup_redo = redo
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.journal.event("collective-timeout", message=text[:300], **self.location, **job.describe())
        channel = job.channel()
        return self.hold(
            channel.others_crashed() if channel is not None else [],
            note=(
                f"its collective failed ({job._first_line(text)}); after the fix every rank re-creates "
                "the process group and this one re-runs its gradient all-reduce"
            ),
        )

    def rejoin_job(self) -> None:
        """Before resuming: if the job re-creates its process group, join the new one (every
        rank does, the crashed ones too), then re-run this rank's timed-out all-reduce."""
        redo, self.regroup_redo = self.regroup_redo, None
        if redo is None and not regroup.pending():
            return
        rank = job.rank()
        try:
            took, generation = regroup.rejoin()
            self.journal.event("regroup", generation=generation, seconds=round(took, 3), **job.describe())
            self.say(f"daifu: rank {rank} joined the job's new process group ({generation}) in {took:.2f} s")
            if redo is not None:
                redone = redo.run()
                self.journal.event("redo-all-reduce", seconds=round(redone, 3), **job.describe())
                self.say(f"daifu: rank {rank} re-ran its gradient all-reduce ({redone * 1000:.0f} ms); it goes on after the backward()")
        except Exception as failed:
            self.leave_job(f"re-creating the process group failed ({job._first_line(str(failed))})")

    def leave_job(self, why: str) -> None:
        """Another rank of the job is gone: say so, checkpoint, and end this process with a
        non-zero status (torchrun's ``--max-restarts`` then restarts the workers)."""
        exc = self.exc
        assert exc is not None
        rank = job.rank()
        me = f"rank {rank}" if rank is not None else "this rank"
        self.journal.event("lost-rank", reason=why, exception=type(exc).__name__, **self.location, **job.describe())
        self.say(f"daifu: {me}: {why}; no retry can help (not a transient fault): {me} leaves the job")
        self.job_checkpoint(why)
        self.checkpoints()
        job.gave_up(f"left the job: {why}")
        self.journal.state("ended", how=f"left the job: {why}", **job.describe())
        self.say(f"daifu: {me} ends (exit status 1) so the launcher can restart the workers{self._checkpoint_note()}")
        job.end_within(30.0)
        raise SystemExit(1)

    def job_checkpoint(self, lost: str) -> None:
        """This survivor's part of the job's checkpoint, from which every rank resumes when
        torchrun restarts the workers (:mod:`.jobcheckpoint`)."""
        from . import jobcheckpoint

        me = f"rank {job.rank()}"
        try:
            done = jobcheckpoint.save(self, lost)
        except jobcheckpoint.NoJobCheckpoint as why:
            self.journal.event("job-checkpoint", saved=False, reason=str(why))
            if not jobcheckpoint.enabled():
                self.say(f"daifu: {me}: no job checkpoint ({why}); a restart of the workers starts the program again")
                return
            jobcheckpoint.record_none(self.config.home, job.rank() or 0, str(why))
            self.say(
                f"daifu: {me}: no job checkpoint ({why}); a restart of the workers resumes from an earlier "
                "attempt's, if one is usable, or runs the program from its start"
            )
            return
        except Exception as exc:
            self.journal.event("job-checkpoint", saved=False, reason=f"{type(exc).__name__}: {exc}")
            jobcheckpoint.record_none(self.config.home, job.rank() or 0, f"{type(exc).__name__}: {exc}")
            self.say(f"daifu: {me}: the job checkpoint failed ({type(exc).__name__}: {exc})")
            return
        self.journal.event("job-checkpoint", saved=True, **done)
        decision = done["decision"]
        if "checkpoint" in done:
            self.say(
                f"daifu: {me}: job checkpoint at {decision['steps']} optimizer steps, {done['point']} "
                f"(agreed in {done['agree_ms']:.0f} ms, written in {done['write_ms']:.0f} ms"
                + (f"; {done['put_back']}" if done.get("put_back") else "")
                + "): a restart of the workers resumes there"
            )
        else:
            self.say(f"daifu: {me}: it will be rebuilt from rank {decision['replica']}'s checkpoint")

    def wait_state(self) -> tuple[str, dict[str, Any]]:
        """The run file's state while waiting: a crash, or a hold for a crash elsewhere."""
        exc = self.exc
        fields: dict[str, Any] = {**self.location, **job.describe()}
        if self.holding:
            return "holding", {**fields, "crashed": self.held_for}
        return "waiting", {**fields, "exception": type(exc).__name__, "message": str(exc)[:500]}

    def checkpoints(self) -> None:
        """Before waiting: the JIT checkpoint (state dicts: even a run given up loses at most
        the step) and the process checkpoint (every frame: ``daifu resume``), in one payload
        when both can be written, so the tensors are written once."""
        self.saved: jit.Saved | None = None
        self.not_saved: str | None = None
        self.process_saved: tuple[Path, list[str]] | None = None
        if not self.config.jit_checkpoint:
            return
        global _checkpoints
        _checkpoints += 1
        label = str(_checkpoints)
        named = _global_names(self.where.root_frame.f_code) if self.where is not None else frozenset()
        self.framework_saved: tuple[str, Path] | None = None
        self.framework_checkpoint(label)
        view: dict[str, Any] | None = None
        try:
            view = jit.view(self.context, named)
            view["label"] = label
        except jit.NotSaved as why:
            if "torch" in sys.modules:  # a program without torch has nothing to checkpoint
                self.not_saved = str(why)
                self.journal.event("jit-checkpoint", saved=False, reason=str(why))
        except Exception as exc:
            self.not_saved = f"{type(exc).__name__}: {exc}"
            self.journal.event("jit-checkpoint", saved=False, reason=self.not_saved)
        written = self.process_checkpoint(view)
        if view is None:
            return
        try:
            if written is not None:
                states = list(view["states"])
                self.saved = jit.Saved(written.payload, written.seconds, written.size, states)
            else:
                self.saved = jit.write(view, self.config.home, label)
        except Exception as exc:
            self.not_saved = f"{type(exc).__name__}: {exc}"
            self.journal.event("jit-checkpoint", saved=False, reason=self.not_saved)
            return
        saved = self.saved
        self.journal.event(
            "jit-checkpoint", saved=True, path=str(saved.path), ms=round(saved.seconds * 1000, 1),
            bytes=saved.size, states=saved.states, **({"shared_with": str(written.path)} if written else {}),
        )

    def process_checkpoint(self, jit_view: dict[str, Any] | None = None) -> Any:
        """Save every vaccinated frame of the stack, so a new process can resume at the failing
        statement (``daifu resume``) if this one ends: given up, killed, preempted. With
        *jit_view*, the JIT checkpoint goes into the same payload. Returns what was written
        (:class:`.restart.Written`), or ``None``."""
        earlier = getattr(self, "process_saved", None)
        self.process_saved = None
        if not self.config.jit_checkpoint:
            return None
        from . import restart

        # Each one under its own name: a later one (the console's `checkpoint`, after snippets
        # changed the state) never overwrites the last good one while it is being written.
        self.process_checkpoints = getattr(self, "process_checkpoints", 0) + 1
        label = str(_checkpoints) if self.process_checkpoints == 1 else f"{_checkpoints}-{self.process_checkpoints}"
        try:
            written = restart.save(self, label, jit_view)
        except restart.NotResumable as why:
            self.process_not_saved = str(why)
            self.journal.event("process-checkpoint", saved=False, reason=str(why))
            return None
        except Exception as exc:
            self.say(f"daifu: could not save a process checkpoint: {type(exc).__name__}: {exc}")
            self.process_saved = earlier  # the last good one still stands
            return None
        self.process_saved = (written.path, written.lost)
        self.changed_state = False
        self.journal.event("process-checkpoint", path=str(written.path), lost=written.lost,
                           ms=round(written.seconds * 1000, 1), bytes=written.size)
        return written

    def touched(self) -> None:
        """The console or a snippet ran code with the crashed function's variables: the state
        may differ from the last process checkpoint."""
        self.changed_state = True

    def checkpoint_changes(self) -> None:
        """Giving up (or stopped) after the state changed while waiting: save it as it is now,
        under a new name (the one written at the crash stays), so that `daifu resume` goes on
        with the changes rather than without them."""
        if getattr(self, "changed_state", False):
            self.process_checkpoint()

    def framework_checkpoint(self, label: str) -> None:
        """Lightning's or the Trainer's own checkpoint, when the crash is under one
        (:mod:`.frameworks`); a crash inside that save is its failure, not a new wait."""
        if not any(m in sys.modules for m in ("lightning", "pytorch_lightning", "transformers")):
            return
        from . import frameworks, trust

        started = time.perf_counter()
        was, self.config.disabled = self.config.disabled, True
        try:
            folder = trust.private_dir(self.config.home / "jit")
            self.framework_saved = frameworks.checkpoint(sys._getframe(), folder, f"{os.getpid()}-{label}")
        except Exception as exc:
            self.say(f"daifu: could not save the framework's checkpoint: {type(exc).__name__}: {exc}")
            return
        finally:
            self.config.disabled = was
        if self.framework_saved is not None:
            kind, path = self.framework_saved
            ms = round((time.perf_counter() - started) * 1000, 1)
            self.journal.event("framework-checkpoint", framework=kind, path=str(path), ms=ms)

    def end_device_lost(self, error: str) -> None:
        """A CUDA error that poisons the context (:mod:`.device_lost`): no fix can resume in
        this process, and no GPU tensor can be read any more. Save what host memory holds (the
        variables holding GPU tensors are named as lost), say what was lost, and end the process
        with status 1: the person fixes the cause and runs ``daifu resume``, or the launcher
        restarts the job. ``SystemExit`` rather than ``exc`` going on up: code around the
        vaccinated frames (a framework's loop) could take it and go on, meeting the same error
        at every later CUDA call."""
        exc = self.exc
        assert exc is not None
        where = f"{self.location['file']}:{self.location['line']}"
        self.journal.event("device-lost", error=error, exception=type(exc).__name__, **self.location)
        lines = [
            "",
            f"daifu: {type(exc).__name__} in {self.qualname}() at {where} (pid {self.journal.pid}{self.job_note}): "
            f"CUDA error: {error}",
            "Traceback (user files):",
            *report.traceback_lines(exc.__traceback__, self.config.home),
            "",
            "daifu: this error leaves the process's CUDA context unusable (every later CUDA call fails with it), "
            "so no fix can resume here: saving what host memory holds, then ending the process",
        ]
        written = self.host_checkpoint()
        if written is not None:
            lines.append(f"daifu: process checkpoint {written.path} (host memory only)")
            lines += [f"  lost: {item}" for item in written.lost]
            lines.append(
                f"daifu: fix the cause, then `daifu resume {written.path}` starts the program again at the failing "
                "statement (what is lost above must be made again there), or let the launcher restart the job"
            )
        else:
            why = getattr(self, "process_not_saved", None) or "process checkpoints are off"
            lines.append(f"daifu: no process checkpoint: {why}")
        reason = f"CUDA error ({error}): the process's CUDA context is lost"
        job.gave_up(reason)
        self.journal.state("ended", how=reason, **job.describe())
        lines.append("daifu: ending with exit status 1")
        self.say("\n".join(lines))
        job.end_within(30.0)
        raise SystemExit(1)

    def host_checkpoint(self) -> Any:
        """The process checkpoint after a CUDA error that poisons the context: host memory
        only, no JIT part (its state dicts are the GPU's tensors)."""
        if not self.config.jit_checkpoint:
            return None
        from . import restart

        global _checkpoints
        _checkpoints += 1
        try:
            written = restart.save(self, str(_checkpoints), host_only=True)
        except restart.NotResumable as why:
            self.process_not_saved = str(why)
            self.journal.event("process-checkpoint", saved=False, reason=str(why))
            return None
        except Exception as exc:
            self.process_not_saved = f"{type(exc).__name__}: {exc}"
            self.journal.event("process-checkpoint", saved=False, reason=self.process_not_saved)
            return None
        self.process_saved = (written.path, written.lost)
        self.journal.event("process-checkpoint", path=str(written.path), lost=written.lost, host_only=True,
                           ms=round(written.seconds * 1000, 1), bytes=written.size)
        return written

    def give_up(self, why: str) -> None:
        exc = self.exc
        if exc is not None:
            mark(exc, f"released: {why}")
            self.journal.event("give-up", reason=why, exception=type(exc).__name__, **self.location)
        journal.gave_up = why
        self.journal.state("running")
        self.say(f"daifu: {why}; the original {type(exc).__name__} propagates{self._checkpoint_note()}")
        return None

    def _checkpoint_note(self) -> str:
        process = getattr(self, "process_saved", None)  # set before any wait
        if process is not None:
            return f"; `daifu resume {process[0]}` starts it again at the failing statement"
        saved = getattr(self, "saved", None)
        return "" if saved is None else f"; the just-in-time checkpoint of the crash is {saved.path}"

    def terminated(self, signum: int) -> None:
        """SIGTERM while waiting: say so, record the end, and die of the signal as the program
        would have (status 143), so schedulers and launchers see what they expect."""
        import os
        import signal

        name = signal.Signals(signum).name
        exc = self.exc
        self.checkpoint_changes()
        self.journal.event("stopped", signal=name, exception=type(exc).__name__, **self.location)
        how = f"killed by signal {signum} ({name}) while waiting for a fix"
        elsewhere = job.ended_elsewhere() if signum == signal.SIGTERM else None
        if elsewhere:  # the launcher's SIGTERM for another rank's end came before the watcher saw it
            self.job_ended = elsewhere
            how = f"ended with the job ({elsewhere}; {name} from the launcher came first)"
        self.journal.state("ended", how=how)
        self.say(
            f"daifu: {name} while waiting for a fix of {type(exc).__name__} at "
            f"{self.location.get('file')}:{self.location.get('line')}; the run ends"
            + self._checkpoint_note()
        )
        sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def say(self, text: str) -> None:
        if not self.config.quiet:
            print(text, file=sys.stderr, flush=True)

    # -- building and running the continuation -----------------------------------------

    def prepare(self, skip: bool = False) -> resume.Built:
        """Compile the continuation for the current code; raises if it cannot be built."""
        # A rank that re-runs its timed-out all-reduce goes on after its backward() (the graph
        # is freed: the backward cannot run again), whatever prepares it (a fix landing, the job)
        skip = skip or self.regroup_redo is not None
        position = align.map_crash(self.old_view, self.view, self.path, self.phase, skip=skip)
        self.position = position
        self.built = resume.build(
            self.view,
            position,
            self.context,
            module=self.module,
            qualname=self.qualname,
            class_name=self.class_name,
            self_name=self.self_name,
            generation=self.view_generation,
        )
        for note in position.notes:
            self.say(f"daifu: note: {note}")
        return self.built

    def switch_code(self) -> None:
        """The crashed module got new code: resume in the new version of the function."""
        current = self.module.current
        matches = logical.find_functions(current.tree, self.qualname, script=self.script)
        index = 0 if self.script else logical.occurrence(self.old_generation.tree, self.qualname, self.old_view.node)
        if index >= len(matches):
            raise align.CannotMap(f"the fix removed {self.qualname}()")
        node = matches[index]
        self.view = current.view(node)
        self.view_generation = current
        self.built = None

    def keep_running_code(self) -> None:
        """Resume in the code that crashed (a fix could not be mapped onto it)."""
        self.view = self.old_view
        self.view_generation = self.old_generation

    def plan(self, decision: Decision) -> Any:
        built = self.built
        assert built is not None
        landed = self.fix_landed
        exc = self.exc
        if exc is not None:
            traceback.clear_frames(exc.__traceback__)
        if self.where is not None:
            release(self.where.frames, self.context)
        self.exc = None
        self.where = None
        session = self

        at, text = self.resumed_at()

        def run() -> Any:
            if decision.free_memory:
                policy.free_memory()
            restore = time.perf_counter() - landed
            session.journal.event(
                "resume", restore_ms=round(restore * 1000, 3), **at,
                crashed_at=f"{session.crash_location['file']}:{session.crash_location['line']}",
            )
            session.say(f"daifu: resumed {session.qualname}() {text} ({restore * 1000:.1f} ms after the fix)")
            result = built.function()
            if built.region is None:
                return result
            if type(result) is Resumed:
                return result
            return Resumed(result, session, built.owner or ())

        return run

    def resumed_at(self) -> tuple[dict[str, Any], str]:
        """Where the continuation really starts (the log's ``resume`` event and message): the
        statement it runs first in the code it runs, which a fix may have moved or removed."""
        position = self.position
        stmt, next_item = resume.first_statement(self.view, position)
        home = self.config.home
        if stmt is None:
            return {"file": self.location["file"], "line": None, "function": self.qualname}, "at its end (it returns)"
        node = stmt.node if stmt.hoist is None or next_item else stmt.hoist
        file, line, _ = report.user_location(self.module.path, node.lineno, home, generation=self.view_generation)
        text = f"at {file}:{line}" + (" (the loop's next iteration)" if next_item else "")
        entered = [f"`{wrapping.header(frames.statement_at(self.view.body, p))}`" for p in position.entered]
        if entered:
            text += f", entering {', '.join(entered)} there"
        return {"file": file, "line": line, "function": self.qualname}, text

    def handover(self, resumed: Resumed, frame: FrameType, root: bool) -> Any:
        """An old frame got a cell's ``Resumed``: continue after that cell's statement with
        the new code, and return what the frame must return."""
        signal, owner = resumed.signal, resumed.owner
        region, found_owner = resume.region_of(self.view, owner[:-1])
        region_owner: tuple = found_owner if found_owner is not None else ()
        if type(signal) is tuple:
            return signal[0] if root else Resumed(signal, self, region_owner)
        position = _after(self.view, owner, signal, region)
        if position is None:  # break/continue leaving this region
            return Resumed(signal, self, region_owner)
        built = resume.build(
            self.view, position, self.context, module=self.module, qualname=self.qualname,
            class_name=self.class_name, self_name=self.self_name, generation=self.view_generation,
        )
        result = built.function()
        if built.region is None:
            return result
        return result if type(result) is Resumed else Resumed(result, self, built.owner or ())

    # -- the report -----------------------------------------------------------------------

    def print_report(self) -> None:
        if self.config.quiet:
            return
        self.say("\n".join(self.report_lines()))

    def report_lines(self) -> list[str]:
        exc = self.exc
        home = self.config.home
        lines = [
            "",
            f"daifu: crash intercepted in {self.qualname}() at "
            f"{self.location['file']}:{self.location['line']} (pid {self.journal.pid}{self.job_note})",
        ]
        if exc is not None:
            lines.append(f"  {type(exc).__name__}: {exc}")
            lines.append("")
            lines.append("Traceback (user files):")
            lines.extend(report.traceback_lines(exc.__traceback__, home))
        if self.phase == "next":
            lines.append("  (the loop's iterator raised while producing the next item; resuming calls it again,"
                         " so the item that failed is skipped if the iterator already moved past it)")
        if ".step(" in ast.unparse(frames.statement_at(self.old_view.body, self.path).node):
            lines.append("  (the failing statement steps an optimizer or scheduler: if it had already updated some"
                         " parameters, `retry` updates them again; `skip` goes on without it)")
        lines.append("")
        if self.old_generation is not self.module.current:
            resumes = "it resumes in the newest code" if self.view_generation is self.module.current else (
                "it resumes in that code (the newest cannot take it)")
            lines.append(f"  (this frame runs {self.qualname}() as it was before the last fix of its module; {resumes})")
        lines.extend(report.context_lines(self.module.path, self._line(), home, generation=self.report_generation))
        if self.where is not None and self.where.approximate:
            lines.append("  (this line holds several statements joined by `;`, and which one failed cannot be told"
                         " here: a resume starts at the first of them, running those before the failing one again)")
        lines.append("")
        lines.append(f"Variables of {self.qualname}():")
        lines.extend(report.variables(self.variables()))
        lines.append("")
        lines.extend(self.instructions())
        return lines

    def _line(self) -> int:
        return self.report_line

    def _report_position(self) -> tuple[int, registry.Generation]:
        """The line (and its generation) to show the crash at: its own, or, when a later fix
        replaced that line, the statement that replaced it (where the frame will resume)."""
        line, generation = self.module_line, self.old_generation
        current = self.module.current
        if generation is current or self.view_generation is not current:
            return line, generation
        if report.carried(generation, current, line) is not None:
            return line, generation
        try:
            position = align.map_crash(self.old_view, self.view, self.path, self.phase)
        except align.CannotMap:
            return line, generation
        block = resume.block_at(self.view, position.block)
        if position.index >= len(block):
            return line, generation
        return block[position.index].first_line(), current

    def variables(self) -> list[tuple[str, Any]]:
        out = []
        for name in self.context.user_names():
            try:
                out.append((name, self.context.get(name)))
            except KeyError:
                continue
        if self.script:
            out = [(n, v) for n, v in out if not _definition(v)]
        return out

    def instructions(self) -> list[str]:
        home = self.config.home
        patches = home / "patches"
        saved = getattr(self, "saved", None)
        checkpoint = []
        if saved is not None:
            checkpoint = [
                f"Saved a just-in-time checkpoint of {', '.join(saved.states)} "
                f"({saved.size / 1e6:.1f} MB, {saved.seconds * 1000:.0f} ms): {saved.path}",
                f"  (a restarted run can load it with {jit.load_hint(saved)})",
                "",
            ]
        elif getattr(self, "not_saved", None):
            checkpoint = [f"No just-in-time checkpoint: {self.not_saved}.", ""]
        process = getattr(self, "process_saved", None)
        if process is not None:
            path, lost = process
            checkpoint += [
                f"Saved a process checkpoint: {path}",
                f"  (if this process ends, `daifu resume {path}` starts the program again at this statement)",
                *(f"  not saved: {item}" for item in lost[:8]),
                "",
            ]
        elif getattr(self, "process_not_saved", None):
            checkpoint += [f"No process checkpoint: {self.process_not_saved}.", ""]
        framework = getattr(self, "framework_saved", None)
        if framework is not None:
            kind, path = framework
            how = f"trainer.fit(model, ckpt_path={str(path)!r})" if kind == "lightning" else (
                f"trainer.train(resume_from_checkpoint={str(path)!r})")
            checkpoint += [f"Saved the {'Lightning' if kind == 'lightning' else 'Trainer'} checkpoint: {path}",
                           f"  (a restarted run resumes from it with {how})", ""]
        return [
            *checkpoint,
            f"Waiting for a fix (pid {self.journal.pid}). Any of:",
            f"  - fix the source and run `{_patch_command(home)}` (or edit the vaccinated file);",
            f"  - drop an action snippet into {patches}/ (it runs with these variables, then retries);",
            f"  - `daifu attach {home.parent}` for a console (show, p, exec, retry, skip, raise, exit).",
        ]


class _IteratorAdapter:
    """An iterator for a loop whose iterator type defines ``__next__`` but no ``__iter__``
    (a plain ``for`` accepts it; the loop daifu writes needs ``iter()`` of it)."""

    __slots__ = ("iterator",)

    def __init__(self, iterator: Any) -> None:
        self.iterator = iterator

    def __iter__(self) -> _IteratorAdapter:
        return self

    def __next__(self) -> Any:
        return type(self.iterator).__next__(self.iterator)


def adapt_iterator(exc: BaseException, where: frames.Where, config: config_module.Config) -> Any:
    """The loop header could not iterate over the saved iterator because its type lacks
    ``__iter__``: resume the same loop over an adapter, silently (nothing was taken from it)."""
    stmt = where.stmt
    if not isinstance(exc, TypeError) or where.phase != "next" or stmt.iterator is None:
        return None
    values = {}
    for frame in where.frames:
        values.update(frame.f_locals)
    iterator = values.get(stmt.iterator)
    kind = type(iterator)
    if iterator is None or hasattr(kind, "__iter__") or not hasattr(kind, "__next__"):
        return None
    context = capture(where.qualname, where.frames, script=where.view.node.name == "__daifu_script__")
    context.set(stmt.iterator, _IteratorAdapter(iterator))
    position = align.Position(where.path[:-1], where.path[-1], loop_next=True)
    class_name, self_name = _class_and_self(where)
    built = resume.build(
        where.view, position, context, module=where.module, qualname=where.qualname,
        class_name=class_name, self_name=self_name, generation=where.generation,
    )
    mark(exc, "passed: iterator adapted")
    traceback.clear_frames(exc.__traceback__)

    def run() -> Any:
        result = built.function()
        if built.region is None or type(result) is Resumed:
            return result
        quiet = _Quiet(where.view, context, where.module, where.qualname, class_name, self_name, where.generation)
        return Resumed(result, quiet, built.owner or ())

    return run


class _Quiet:
    """A session without a crash: hands old frames over to the continuation's code."""

    def __init__(self, view: logical.Function, context: Context, module: registry.ModuleRecord,
                 qualname: str, class_name: str | None, self_name: str | None,
                 generation: registry.Generation) -> None:
        self.view, self.context, self.module, self.qualname = view, context, module, qualname
        self.class_name, self.self_name = class_name, self_name
        self.view_generation = generation

    handover = lambda self, resumed, frame, root: Session.handover(self, resumed, frame, root)  # noqa: E731


def _after(view: logical.Function, owner: tuple, signal: Any, region: str | None) -> align.Position | None:
    """Where to go on after the statement at *owner* ended with *signal*."""
    if signal is None:
        return align.Position(owner[:-1], owner[-1] + 1)
    path = owner
    while len(path) > 1:
        parent_path, name = path[:-2], path[-2]
        parent = frames.statement_at(view.body, parent_path) if parent_path else None
        if parent is None or parent.region != region or name in parent.cells:
            break
        if isinstance(parent.node, (ast.For, ast.While)) and name == "body":
            if signal == "break":
                return align.Position(parent_path[:-1], parent_path[-1] + 1)
            if signal == "continue":
                return align.Position(parent_path[:-1], parent_path[-1], loop_next=isinstance(parent.node, ast.For))
        path = parent_path
    return None


#: What a module's ``def``, ``class`` and ``import`` statements bind.
_DEFINITIONS = (
    types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type, functools.partial,
)


def _definition(value: Any) -> bool:
    """Whether a global of script-level code is the module's code rather than its state: a
    function, class or module (every script binds dozens through ``def``, ``class`` and
    ``import``; listing them would bury the state). Callable *instances* are state and stay:
    a model (``nn.Module``), a loss module, anything with a ``state_dict``."""
    return isinstance(value, _DEFINITIONS)


def _global_names(code: CodeType) -> frozenset[str]:
    """Names the code (its cells and nested scopes too) loads or stores as globals or
    attributes; the JIT checkpoint keeps the module globals among them as step counters."""
    names: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        names.update(current.co_names)
        todo.extend(c for c in current.co_consts if isinstance(c, CodeType))
    return frozenset(names)


def _params(node: ast.FunctionDef) -> tuple[str, ...]:
    args = node.args
    return tuple(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])


def _class_and_self(where: frames.Where) -> tuple[str | None, str | None]:
    if where.continuation is None:
        cls = where.generation.enclosing_class(where.view.node)
    else:
        cls = where.generation.enclosing_class_by_qualname(where.qualname)
    if cls is None:
        return None, None
    args = where.view.node.args
    params = [*args.posonlyargs, *args.args]
    return cls, (params[0].arg if params else None)


def _handled_exception(exc: BaseException) -> BaseException | None:
    """The exception an ``except`` block was handling when *exc* was raised in it."""
    return exc.__context__


def _patch_command(home: Path) -> str:
    """``daifu patch SOURCE -o OUTPUT`` with this run's own folders (the manifest names the
    project the output was made from)."""
    import json
    import shlex

    output = home.parent
    try:
        source = json.loads((home / "manifest.json").read_text(encoding="utf-8"))["source"]
    except (OSError, ValueError, KeyError, TypeError):
        source = "<project>"
    return f"daifu patch {shlex.quote(str(source))} -o {shlex.quote(str(output))}"
