"""The ``daifu`` command line (Typer). Commands stay thin and forward to plain functions."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from daifu_cli import __version__
from daifu_cli.options import ConfigError, merge
from daifu_cli.project import MANIFEST, Outcome, ProjectError, Request, vaccinate_project

EXIT_CHANGED = 1
EXIT_USAGE = 2
EXIT_ERROR = 123

app = typer.Typer(
    name="daifu",
    help="In-situ crash recovery for PyTorch training: vaccinate a project, then fix crashes "
    "while the run waits and resume at the failing statement.",
    no_args_is_help=True,
    rich_markup_mode=None,  # click's plain help, as black's and pytest's read
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _plain_arguments() -> None:
    """Recent typer writes a required argument as ``{NAME}`` in usage lines and follows its
    name with a type hint (``NAME <path>``) in the help; click, black and pytest write
    ``NAME``. Where this typer has those hooks, write them as click does."""
    from typer import core

    argument = getattr(core, "TyperArgument", None)
    if argument is None:
        return
    if hasattr(argument, "_usage_display_name"):

        def usage_name(self: Any) -> str:
            name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
            return name + ("..." if self.nargs != 1 else "")

        argument._usage_display_name = usage_name
    if hasattr(argument, "display_type_rich"):
        argument.display_type_rich = lambda self, ctx: None


_plain_arguments()


def _examples(*lines: str) -> str:
    """An epilog of examples, kept as written (click's ``\\b`` stops the re-wrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"daifu {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", metavar="", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """daifu: in-situ crash recovery for PyTorch training."""


def _echo(text: str = "", err: bool = True) -> None:
    typer.echo(text, err=err)


@app.command(
    epilog=_examples(
        "daifu vaccinate ./project -o ./project_vax      # write the vaccinated copy",
        "daifu vaccinate ./project -o ./project_vax --check --diff   # in CI: is it current?",
        "daifu vaccinate ./project -o ./project_vax --force --explain",
        'daifu vaccinate ./project -o ./project_vax -s "utils.py::collate" -x "scripts/*"',
    )
)
def vaccinate(
    source: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder to vaccinate (read only).")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="OUTPUT", help="Where to write the vaccinated copy.")],
    check: Annotated[bool, typer.Option("--check", metavar="", help="Write nothing; exit 1 if the output on disk is not current.")] = False,
    diff: Annotated[bool, typer.Option("--diff", metavar="", help="Write nothing; print a unified diff of what would change (exit 1 if anything would).")] = False,
    force: Annotated[bool, typer.Option("--force", metavar="", help="Replace an earlier daifu output.")] = False,
    replace_running: Annotated[bool, typer.Option("--replace-running", metavar="", help="With --force: replace the output even while runs use it (files they wrote are kept).")] = False,
    explain: Annotated[bool, typer.Option("--explain", metavar="", help="List every function: vaccinated or not, and why.")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select", "-s", metavar="PATH::QUALNAME", help="Also vaccinate functions matching PATH::QUALNAME (shell wildcards; PATH alone: the whole file; train.py::<script> for script-level code).")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", "-x", metavar="PATH::QUALNAME", help="Never vaccinate functions matching PATH::QUALNAME.")] = None,
    policy: Annotated[Optional[str], typer.Option(metavar="default|marked|all", help="default: functions with loops and scripts with a module-level loop; marked: only @daifu.transform() and --select; all: every function.")] = None,
    no_format: Annotated[bool, typer.Option("--no-format", metavar="", help="Do not run black on the lines daifu writes (your own are never reformatted).")] = False,
    copy_all: Annotated[bool, typer.Option("--copy-all", metavar="", help="Copy big files instead of hard-linking them.")] = False,
    link_threshold: Annotated[Optional[str], typer.Option(metavar="SIZE", help="Hard-link files at least this big (default 16MiB).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N", show_default=False, help="Worker processes (default: all cores).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="Only errors and the exit code.")] = False,
) -> None:
    """Write a vaccinated copy of a training project.

    Functions and script-level code are split into cells with crash barriers; every other
    file is copied (big ones hard-linked). Exit status: 0 done (or, with --check/--diff, the
    output is current), 1 the output would change, 2 bad usage, 123 an error in some file.
    """
    try:
        config = merge(
            source,
            policy=policy,
            select=select,
            exclude=exclude,
            format=False if no_format else None,
            copy_all=copy_all,
            link_threshold=link_threshold,
        )
    except ConfigError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    mode = "diff" if diff else "check" if check else "write"
    request = Request(source, output, config, mode=mode, force=force, jobs=jobs, replace_running=replace_running)  # type: ignore[arg-type]
    try:
        outcome = _run_with_progress(request, quiet)
    except ProjectError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:  # unreadable project file, read-only output location, full disk
        _echo(f"error: {_os_error(exc)} (nothing was written to {output})")
        raise typer.Exit(EXIT_ERROR) from None
    if explain:
        _print_explain(outcome)
    raise typer.Exit(_report(outcome, request, quiet))


def _os_error(exc: OSError) -> str:
    """``path: reason``, naming the file the person knows rather than daifu's temporary one
    (``.x.daifu-tmp`` beside it, or the ``.out.daifu-tmp-PID`` folder beside the output)."""
    name = str(exc.filename or "")
    path = Path(name)
    if ".daifu-tmp" in path.name:
        if path.name.endswith(".daifu-tmp") and path.name.startswith("."):
            name = str(path.with_name(path.name[1 : -len(".daifu-tmp")]))
        else:
            name = str(path.parent)
    else:
        for parent in path.parents:
            if ".daifu-tmp-" in parent.name:  # a file inside the output being built
                name = str(parent.parent)
                break
    reason = exc.strerror or str(exc)
    return f"{name}: {reason}" if name else reason


def _run_with_progress(request: Request, quiet: bool) -> Outcome:
    if quiet or not sys.stderr.isatty():
        return vaccinate_project(request)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.fields[label]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None, label="vaccinating")
        # A file that takes more than a second gets a line of its own: the pass it is in and
        # how many of its functions that pass has done.
        inner = bar.add_task("", total=None, visible=False, label="  functions")
        finished: set[str] = set()
        current: list[str] = []

        def progress(done: int, total: int, path: str) -> None:
            finished.add(path)
            bar.update(task, completed=done, total=total, description=path)
            if current and current[0] == path:
                bar.update(inner, visible=False)

        def file_progress(path: str, phase: str, done: int, total: int) -> None:
            if path in finished:  # a late message from a worker
                return
            if not current or current[0] != path:
                current[:] = [path]
                bar.reset(inner, total=total)
            bar.update(inner, visible=True, completed=done, total=total, description=f"{path}: {phase}")

        return vaccinate_project(request, progress, file_progress)


def _report(outcome: Outcome, request: Request, quiet: bool) -> int:
    code = 0
    for relpath, line, message in outcome.errors:
        _echo(f"error: cannot vaccinate {relpath}:{line}: {message} (copied unchanged)")
        code = EXIT_ERROR
    for relpath, (qualname, line, reason, internal) in outcome.skipped:
        where, reason = _at_definition(outcome, relpath, qualname, line, reason)
        if internal:
            _echo(f"error: {relpath}:{where}: {qualname}: {reason} (left as it was)")
            code = EXIT_ERROR
        elif not quiet:
            _echo(f"skipped {relpath}:{where}: {qualname}: {reason}")
    if request.mode != "write":
        for diff in outcome.diffs:
            typer.echo(diff, nl=False)
        if not quiet:
            for relpath in outcome.changed:
                _echo(f"would revaccinate {relpath}" if relpath.endswith(".py") else f"would update {relpath}")
        if outcome.changed and code == 0:
            code = EXIT_CHANGED
        if not quiet:
            state = f"{len(outcome.changed)} files would change" if outcome.changed else "the output is current"
            _echo(f"{state} ({outcome.files} files in {request.source}, {outcome.seconds:.1f} s)")
        return code
    for relpath in outcome.kept_over_project:
        _echo(f"kept {relpath}: a run changed it in the output; the project's copy was not placed over it")
    if not quiet:
        if outcome.kept:
            _echo(f"kept {len(outcome.kept)} files that runs wrote into {request.output}")
        for relpath in outcome.vaccinated_files:
            names = outcome.summaries[relpath].vaccinated
            _echo(f"vaccinated {relpath}: {', '.join(names)}")
        linked = (
            f", {outcome.linked} hard-linked ({_size(outcome.linked_bytes)})" if outcome.linked else ""
        )
        rate = outcome.lines / outcome.seconds if outcome.seconds else 0
        _echo(
            f"done: {_plural(len(outcome.vaccinated_files), 'file')} vaccinated "
            f"({_plural(outcome.functions, 'function')}, {_plural(outcome.scripts, 'script')}), "
            f"{_plural(len(outcome.skipped), 'function')} left as {'it was' if len(outcome.skipped) == 1 else 'they were'}, "
            f"{_plural(outcome.copied, 'file')} copied{linked}; {outcome.lines:,} Python lines in "
            f"{outcome.seconds:.1f} s ({rate:,.0f} lines/s) -> {request.output}"
        )
    return code


def _at_definition(outcome: Outcome, relpath: str, qualname: str, line: int, reason: str) -> tuple[int, str]:
    """A function left as it was is named at its ``def`` line (as ``--explain`` does); the
    line of what made it so (a ``yield``, a ``locals()``) goes into the reason."""
    for name, def_line, _, _ in outcome.summaries[relpath].decisions:
        if name == qualname and def_line != line:
            return def_line, f"{reason} (line {line})"
    return line, reason


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} TiB"


def _print_explain(outcome: Outcome) -> None:
    for relpath, summary in outcome.summaries.items():
        unsupported = {qualname: reason for qualname, _, reason, _ in summary.skipped}
        problem_lines = {qualname: line for qualname, line, _, _ in summary.skipped}
        for qualname, line, selected, reason in summary.decisions:
            if qualname == "<script>" and reason == "no script-level code":
                continue
            problem = unsupported.get(qualname)
            if selected and problem:
                _, problem = _at_definition(outcome, relpath, qualname, problem_lines[qualname], problem)
                verdict = f"not vaccinated: {problem}"
            elif selected:
                verdict = f"vaccinated: {reason}"
            else:
                verdict = f"not selected: {reason}"
            typer.echo(f"{relpath}:{line}: {qualname}: {verdict}")
        if summary.error:
            typer.echo(f"{relpath}:{summary.error_line}: error: {summary.error}")


@app.command(
    epilog=_examples(
        "daifu patch ./project -o ./project_vax          # after saving a fix",
        "daifu patch ./project -o ./project_vax --watch  # patch on every save",
    )
)
def patch(
    source: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder with your fix.")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="OUTPUT", help="The vaccinated copy a run is using.")],
    watch: Annotated[bool, typer.Option("--watch", "-w", metavar="", help="Keep watching the project and patch on every save.")] = False,
    interval: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds between checks with --watch (without watchfiles).")] = 0.2,
) -> None:
    """Re-vaccinate changed files into an existing output; a waiting run picks them up."""
    from daifu_cli.patch import PatchError, patch_once, watch_forever

    try:
        if watch:
            watch_forever(source, output, interval, _echo)
        else:
            changed = patch_once(source, output)
            for relpath in changed.kept:
                _echo(f"kept {relpath}: a run changed it in the output; the project's new copy was not placed")
            for relpath, line, message in changed.errors:
                _echo(f"error: {source / relpath}:{line}: {message} (not patched; a waiting run keeps waiting)")
            if changed or not changed.errors:
                _echo(f"patched {', '.join(changed)}" if changed else "nothing changed")
            if changed.errors:
                raise typer.Exit(EXIT_ERROR)
    except PatchError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:  # an unreadable project file, a read-only output
        _echo(f"error: {_os_error(exc)} (the run keeps the code it has)")
        raise typer.Exit(EXIT_ERROR) from None


@app.command(
    epilog=_examples(
        "daifu status ./project_vax",
        "daifu status ./project_vax --events 50 --json",
        "daifu status ./project_vax --prune              # forget runs that ended",
    )
)
def status(
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="A vaccinated output folder.")],
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Machine-readable output.")] = False,
    events: Annotated[int, typer.Option(metavar="N", help="How many recent log events to show (0: none).")] = 10,
    prune: Annotated[bool, typer.Option("--prune", metavar="", help="Remove the run files of processes that ended or are gone (the log keeps their events).")] = False,
) -> None:
    """Show the runs of a vaccinated output: waiting for a fix, running, or how they ended.

    A run appears once it has crashed at least once. Exit status: 0, or 2 when OUTPUT is not
    a daifu output.
    """
    from daifu_cli.status import prune_runs, read_status

    if not (output / MANIFEST).is_file():
        _echo(f"error: {output} is not a daifu output (no {MANIFEST}); `daifu vaccinate` writes one")
        raise typer.Exit(EXIT_USAGE)
    if prune:
        removed = prune_runs(output)
        _echo(f"removed {len(removed)} run files of processes that ended or are gone" + (f": pid {', '.join(map(str, removed))}" if removed else ""))
    state = read_status(output)
    if as_json:
        typer.echo(json.dumps(state, indent=1))
        return
    if not state["processes"]:
        typer.echo("no run has crashed from this output yet (runs appear here at their first crash)")
    # the ranks of a distributed job in rank order, then other processes
    for proc in sorted(state["processes"], key=lambda p: (p.get("rank") is None, p.get("rank") or 0, p.get("pid", 0))):
        since = time.strftime("%H:%M:%S", time.localtime(proc.get("since", 0)))
        status = proc["status"]
        if status == "ended":
            line = f"pid {proc['pid']}: ended at {since}: {proc.get('how', 'finished')}"
        elif not proc["alive"]:
            line = f"pid {proc['pid']}: gone (it was {status} at {since}; killed, or lost, before it could say how it ended)"
        else:
            line = f"pid {proc['pid']}: {status} since {since}"
            if status == "waiting":
                line += f" - {proc.get('exception')} at {proc.get('file')}:{proc.get('line')} in {proc.get('function')}()"
            elif status == "holding":  # a rank of a distributed job, held for a crash elsewhere
                line += f" at {proc.get('file')}:{proc.get('line')} in {proc.get('function')}() - {proc.get('crashed')}"
            elif status == "pausing":
                line += f" - {proc.get('crashed')}; asked to hold, still inside a call (a collective?)"
        if "rank" in proc:
            line = f"rank {proc['rank']} of {proc.get('world')}, {line}"
        typer.echo(line)
    for event in (state["events"][-events:] if events > 0 else []):
        stamp = time.strftime("%H:%M:%S", time.localtime(event.get("ts", 0)))
        detail = {k: v for k, v in event.items() if k not in ("ts", "pid", "event")}
        typer.echo(f"{stamp} pid {event.get('pid')} {event.get('event')}: {json.dumps(detail)}")


@app.command(
    epilog=_examples(
        "daifu resume ./project_vax/.daifu/jit/4242-1.json",
        "daifu resume ./project_vax/.daifu/jit/4242-1.json -- --epochs 3   # other arguments",
        "DAIFU_RESUME=/abs/path/4242-1.json torchrun ... train.py           # launchers",
    )
)
def resume(
    checkpoint: Annotated[Path, typer.Argument(metavar="CHECKPOINT", help="A process checkpoint (.daifu/jit/<pid>-<n>.json) written at a crash.")],
    args: Annotated[Optional[list[str]], typer.Argument(metavar="[-- ARGS...]", help="Arguments for the program instead of the saved ones.")] = None,
) -> None:
    """Start the program of a process checkpoint again and resume at the saved statement.

    The program runs with its saved interpreter, folder and arguments; its module-level set-up
    runs as usual, then each saved function resumes where it stood, with its saved variables.
    Fix the source and `daifu patch` before resuming: the position carries into the new code.
    Exit status: the program's own, or 2 when the checkpoint cannot be used.
    """
    import os

    from daifu_cli.runtime.restart import CannotRestore, read

    try:
        meta, _ = read(checkpoint, data=False)  # the resumed process checks every record
    except CannotRestore as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    output = Path(meta["output"])
    if not (output / MANIFEST).is_file():
        _echo(f"error: the output it belongs to, {output}, is not there any more")
        raise typer.Exit(EXIT_USAGE)
    argv = [meta["executable"], *(meta["argv"][:1] + list(args) if args else meta["argv"])]
    env = {**os.environ, "DAIFU_RESUME": str(checkpoint.resolve())}
    _echo(f"daifu: resuming {' '.join(argv[1:])} in {meta['cwd']} from {checkpoint}")
    sys.stderr.flush()
    os.chdir(meta["cwd"])
    os.execve(meta["executable"], argv, env)


@app.command(epilog=_examples("daifu attach ./project_vax", "daifu attach ./project_vax --pid 4242"))
def attach(
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="A vaccinated output folder with a waiting run.")],
    pid: Annotated[Optional[int], typer.Option(metavar="PID", help="Which waiting process (default: the only one).")] = None,
) -> None:
    """Open the console of a run that waits for a fix (from another terminal)."""
    from daifu_cli.status import attach_console

    code = attach_console(output, pid, _echo)
    raise typer.Exit(code)


@app.command()
def demo(
    workdir: Annotated[Optional[Path], typer.Option(metavar="FOLDER", help="Folder for the demo's files (default: a temporary one).")] = None,
) -> None:
    """Run the whole story on a bundled example: vaccinate, run, crash, fix, resume."""
    from daifu_cli.demo import run_demo

    raise typer.Exit(run_demo(workdir, _echo))


@app.command()
def bench(
    args: Annotated[Optional[list[str]], typer.Argument(metavar="CRASHBENCH_ARGS...", help="Arguments for crashbench (see `daifu bench -- --help`).")] = None,
) -> None:
    """Run crashbench (same as `python -m crashbench`)."""
    try:
        from crashbench.__main__ import main as crashbench_main
    except ImportError:
        _echo("error: crashbench is not installed (it ships in the source tree)")
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(crashbench_main(args or []))


if __name__ == "__main__":  # pragma: no cover
    app()
