"""The ``daifu`` command line (Typer). Commands stay thin and forward to plain functions."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from daifu_cli import __version__
from daifu_cli.options import ConfigError, merge
from daifu_cli.project import Outcome, ProjectError, Request, vaccinate_project

EXIT_CHANGED = 1
EXIT_USAGE = 2
EXIT_ERROR = 123

app = typer.Typer(
    name="daifu",
    help="In-situ crash recovery for PyTorch training: vaccinate a project, then fix crashes "
    "while the run waits and resume at the failing statement.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"daifu {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """daifu: in-situ crash recovery for PyTorch training."""


def _echo(text: str = "", err: bool = True) -> None:
    typer.echo(text, err=err)


@app.command()
def vaccinate(
    source: Annotated[Path, typer.Argument(help="The project folder to vaccinate (read only).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the vaccinated copy.")],
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the output on disk is not current.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Write nothing; print a unified diff of what would change (exit 1 if anything would).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier daifu output.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="List every function: vaccinated or not, and why.")] = False,
    select: Annotated[Optional[list[str]], typer.Option("--select", "-s", help="Also vaccinate functions matching PATH::QUALNAME (shell wildcards; PATH alone: the whole file; train.py::<script> for script-level code).")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", "-x", help="Never vaccinate functions matching PATH::QUALNAME.")] = None,
    policy: Annotated[Optional[str], typer.Option(help="default: functions with loops and scripts with a module-level loop; marked: only @daifu.transform() and --select; all: every function.")] = None,
    no_format: Annotated[bool, typer.Option("--no-format", help="Do not run black on the vaccinated code.")] = False,
    copy_all: Annotated[bool, typer.Option("--copy-all", help="Copy big files instead of hard-linking them.")] = False,
    link_threshold: Annotated[Optional[str], typer.Option(help="Hard-link files at least this big (default 16MiB).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the exit code.")] = False,
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
    request = Request(source, output, config, mode=mode, force=force, jobs=jobs)  # type: ignore[arg-type]
    try:
        outcome = _run_with_progress(request, quiet)
    except ProjectError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if explain:
        _print_explain(outcome)
    raise typer.Exit(_report(outcome, request, quiet))


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
        if internal:
            _echo(f"error: {relpath}:{line}: {qualname}: {reason} (left as it was)")
            code = EXIT_ERROR
        elif not quiet:
            _echo(f"skipped {relpath}:{line}: {qualname}: {reason}")
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
    if not quiet:
        for relpath in outcome.vaccinated_files:
            names = outcome.summaries[relpath].vaccinated
            _echo(f"vaccinated {relpath}: {', '.join(names)}")
        linked = (
            f", {outcome.linked} hard-linked ({_size(outcome.linked_bytes)})" if outcome.linked else ""
        )
        rate = outcome.lines / outcome.seconds if outcome.seconds else 0
        _echo(
            f"done: {len(outcome.vaccinated_files)} files vaccinated ({outcome.functions} functions, "
            f"{outcome.scripts} scripts), {len(outcome.skipped)} skipped, "
            f"{outcome.copied} files copied{linked}; {outcome.lines:,} Python lines in "
            f"{outcome.seconds:.1f} s ({rate:,.0f} lines/s) -> {request.output}"
        )
    return code


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} TiB"


def _print_explain(outcome: Outcome) -> None:
    for relpath, summary in outcome.summaries.items():
        unsupported = {qualname: reason for qualname, _, reason, _ in summary.skipped}
        for qualname, line, selected, reason in summary.decisions:
            if qualname == "<script>" and reason == "no script-level code":
                continue
            problem = unsupported.get(qualname)
            if selected and problem:
                verdict = f"not vaccinated: {problem}"
            elif selected:
                verdict = f"vaccinated: {reason}"
            else:
                verdict = f"not selected: {reason}"
            typer.echo(f"{relpath}:{line}: {qualname}: {verdict}")
        if summary.error:
            typer.echo(f"{relpath}:{summary.error_line}: error: {summary.error}")


@app.command()
def patch(
    source: Annotated[Path, typer.Argument(help="The project folder with your fix.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The vaccinated copy a run is using.")],
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Keep watching the project and patch on every save.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between checks with --watch (without watchfiles).")] = 0.2,
) -> None:
    """Re-vaccinate changed files into an existing output; a waiting run picks them up."""
    from daifu_cli.patch import PatchError, patch_once, watch_forever

    try:
        if watch:
            watch_forever(source, output, interval, _echo)
        else:
            changed = patch_once(source, output)
            _echo(f"patched {', '.join(changed)}" if changed else "nothing changed")
    except PatchError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def status(
    output: Annotated[Path, typer.Argument(help="A vaccinated output folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    events: Annotated[int, typer.Option(help="How many recent log events to show.")] = 10,
) -> None:
    """Show the runs of a vaccinated output: waiting for a fix or running, and recent events."""
    from daifu_cli.status import read_status

    state = read_status(output)
    if as_json:
        typer.echo(json.dumps(state, indent=1))
        return
    if not state["processes"]:
        typer.echo("no run has started from this output")
    for proc in state["processes"]:
        alive = "" if proc["alive"] else " (process gone)"
        since = time.strftime("%H:%M:%S", time.localtime(proc.get("since", 0)))
        line = f"pid {proc['pid']}: {proc['status']}{alive} since {since}"
        if proc["status"] == "waiting":
            line += f" - {proc.get('exception')} at {proc.get('file')}:{proc.get('line')} in {proc.get('function')}()"
        typer.echo(line)
    for event in state["events"][-events:]:
        stamp = time.strftime("%H:%M:%S", time.localtime(event.get("ts", 0)))
        detail = {k: v for k, v in event.items() if k not in ("ts", "pid", "event")}
        typer.echo(f"{stamp} pid {event.get('pid')} {event.get('event')}: {json.dumps(detail)}")


@app.command()
def attach(
    output: Annotated[Path, typer.Argument(help="A vaccinated output folder with a waiting run.")],
    pid: Annotated[Optional[int], typer.Option(help="Which waiting process (default: the only one).")] = None,
) -> None:
    """Open the console of a run that waits for a fix (from another terminal)."""
    from daifu_cli.status import attach_console

    code = attach_console(output, pid, _echo)
    raise typer.Exit(code)


@app.command()
def demo(
    workdir: Annotated[Optional[Path], typer.Option(help="Folder for the demo's files (default: a temporary one).")] = None,
) -> None:
    """Run the whole story on a bundled example: vaccinate, run, crash, fix, resume."""
    from daifu_cli.demo import run_demo

    raise typer.Exit(run_demo(workdir, _echo))


@app.command()
def bench(
    args: Annotated[Optional[list[str]], typer.Argument(help="Arguments for crashbench (see `daifu bench -- --help`).")] = None,
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
