"""The console at a crash: the same commands at the terminal and through ``daifu attach``."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from . import report
from .signals import Stopped

if TYPE_CHECKING:
    from .session import Decision, Session

HELP = """\
commands:
  show          the exception and the source around the failing statement
  where         the traceback, in your files
  vars          the failing function's variables (summarised)
  p EXPR        print EXPR evaluated with those variables
  exec CODE     run CODE with those variables (also: !CODE); assignments stick
  reload        apply changed code now (saved files are applied automatically)
  checkpoint    save a process checkpoint of the state as it is now (`daifu resume` it later)
  retry         run the failing statement again, with the current code
  skip          go on after the failing statement
  raise         give up: the original exception propagates as without daifu
  exit [CODE]   end the program with exit status CODE (default 1)
  detach        leave this console; the program keeps waiting
  help          this list"""


_INTERRUPTED = "KeyboardInterrupt: the command was interrupted (Ctrl+C); still waiting"


class Console:
    def __init__(self, session: Session) -> None:
        self.session = session

    def execute(self, line: str) -> tuple[str, Decision | str | None]:
        """Run one command: its output, and a decision (or ``"detach"``)."""
        from .session import Decision

        line = line.strip()
        if not line:
            return "", None
        if line.startswith("!"):
            command, argument = "exec", line[1:]
        else:
            command, _, argument = line.partition(" ")
        session = self.session
        if command in ("help", "h", "?"):
            return HELP, None
        if command == "show":
            return "\n".join(session.report_lines()), None
        if command == "where":
            exc = session.exc
            lines = report.traceback_lines(exc.__traceback__ if exc else None, session.config.home)
            return "\n".join(lines) or "(no traceback)", None
        if command == "vars":
            return "\n".join(report.variables(session.variables(), limit=200)), None
        if command in ("p", "print"):
            return self._evaluate(argument), None
        if command == "exec":
            return self._exec(argument), None
        if command == "reload":
            from .waiting import check_code

            message, decision = check_code(session, force=True)
            return message or "no changed code", decision
        if command == "checkpoint":
            session.process_checkpoint()
            saved = getattr(session, "process_saved", None)
            if saved is None:
                return f"no process checkpoint: {getattr(session, 'process_not_saved', None) or 'see above'}", None
            lost = "".join(f"\n  not saved: {item}" for item in saved[1])
            return f"saved {saved[0]}; `daifu resume {saved[0]}` starts the program again here{lost}", None
        if command in ("retry", "skip"):
            return self._resume(command)
        if command == "raise":
            return "giving up", Decision("raise")
        if command == "exit":
            code = int(argument) if argument.strip().lstrip("-").isdigit() else 1
            return f"exiting with status {code}", Decision("exit", exit_code=code)
        if command in ("detach", "quit", "q"):
            return "detached; the program keeps waiting", "detach"
        return f"unknown command {command!r}; type `help`", None

    def _resume(self, command: str) -> tuple[str, Decision | None]:
        from .align import CannotMap
        from .session import Decision

        skip = command == "skip"
        try:
            self.session.prepare(skip=skip)
        except CannotMap as exc:
            self.session.journal.event("cannot-resume", reason=str(exc), origin="console")
            return f"cannot resume here: {exc}", None
        if skip:
            return "skipping the failing statement", Decision("skip")
        return "retrying", Decision("resume")

    def _evaluate(self, expression: str) -> str:
        self.session.touched()  # an expression may change what it reads (a method call)
        ctx = self.session.context
        try:
            value = eval(expression, ctx.globals, ctx.namespace())
        except BaseException as exc:
            if isinstance(exc, Stopped):
                if exc.terminate:
                    raise  # SIGTERM ends the run wherever it lands, as while waiting
                return _INTERRUPTED
            return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        return repr(value)

    def _exec(self, code: str) -> str:
        self.session.touched()
        ctx = self.session.context
        namespace = ctx.namespace()
        try:
            exec(compile(code, "<daifu console>", "single"), ctx.globals, namespace)
        except BaseException as exc:
            if isinstance(exc, Stopped):
                if exc.terminate:
                    raise  # SIGTERM ends the run wherever it lands, as while waiting
                return _INTERRUPTED
            return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        changed = namespace.commit()
        return f"changed: {', '.join(changed)}" if changed else "ok"
