"""Placing a crash and reporting it in the user's files, across fixes (issue 10, items 1, 6, 7).

A fix gives changed functions new code for their next call, but frames already running keep
their old code at the old code's line numbers; every later crash in such a frame must still be
placed (and reported) against the version of the module that frame runs. A crash daifu cannot
place is said on stderr and in the log, never passed silently. The report maps every frame of
a vaccinated file back to the user's line, and shows the state of script-level code.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest
from conftest import requires_torch
from recovery import Run, fixed_copy, run_plain

from daifu_cli.passes.select import Selection
from daifu_cli.patch import patch_once
from daifu_cli.pipeline import Options, vaccinate_source
from daifu_cli.runtime.report import LineMap


@pytest.fixture(autouse=True)
def _no_program_left_waiting(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A test that fails half-way must not leave its program waiting for a fix (6 hours)."""
    started: list[Run] = []
    start = Run.start

    def tracked(self: Run, **kwargs):  # type: ignore[no-untyped-def]
        started.append(self)
        return start(self, **kwargs)

    monkeypatch.setattr(Run, "start", tracked)
    yield
    for run in started:
        run.kill()


def line_of(run: Run, text: str, file: str = "main.py") -> int:
    """The line of *text* in the user's source as it is now."""
    lines = (run.src / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def crashes(run: Run) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in run.events() if e["event"] == "crash"]


# -- item 1: frames running code older than the module's newest version ------------------------

MOVED = """
    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def main():
        for i in range(3):
            step(i)
        print("loop done")
        open("missing_dir/out.txt", "w")
        print("saved")

    main()
"""


def test_a_crash_in_a_frame_whose_code_a_fix_moved_is_intercepted(tmp_path: Path) -> None:
    """The fix of ``step`` adds a line, so ``main`` moves down one line in the new code; the
    ``main`` frame that is running keeps the old code, whose lines the runtime must still read
    (it used to find no def at the old line and let the second crash kill the program)."""
    run = Run(tmp_path, {"main.py": MOVED}).start()
    run.wait_waiting()
    run.patch('raise ValueError("bug in step")', "pass  # fixed\n            # a line more: main moves down")
    state = run.wait_waiting(count=2)
    assert state["exception"] == "FileNotFoundError" and state["function"] == "main"
    assert state["line"] == line_of(run, 'open("missing_dir/out.txt"') == 11
    run.patch('open("missing_dir/out.txt", "w")', 'open("out.txt", "w")')
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "loop done\nsaved\n"
    assert "cannot intercept" not in err
    # the report of the second crash shows the failing line of the file as it is now
    assert '../src/main.py:11 in main\n      open("missing_dir/out.txt", "w")' in err


def test_a_frame_of_a_function_patched_twice_is_placed_in_its_first_code(tmp_path: Path) -> None:
    """Two fixes change ``main`` while its first frame keeps running the code it started with;
    its crash is placed in that code (three versions of the module are known by then) and
    resumes in the newest, where the statements both fixes inserted before the failing one
    run first."""
    run = Run(tmp_path, {"main.py": MOVED}).start()
    run.wait_waiting()
    run.patch('    print("loop done")\n', '    print("loop done")\n    print("patched once")\n')
    run.wait_waiting(count=2)  # step itself is not fixed yet: it fails again
    run.edit_source('raise ValueError("bug in step")', "pass  # fixed\n            # a line more")
    run.edit_source('    print("patched once")\n', '    print("patched once")\n    print("patched twice")\n')
    assert patch_once(run.src, run.out) == ["main.py"]
    state = run.wait_waiting(count=3)
    assert state["exception"] == "FileNotFoundError" and state["function"] == "main"
    assert state["line"] == line_of(run, 'open("missing_dir/out.txt"')
    run.patch('open("missing_dir/out.txt", "w")', 'open("out.txt", "w")')
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "loop done\npatched once\npatched twice\nsaved\n"


CHANGED_BELOW = """
    PATH = "missing_dir/out.txt"

    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def main():
        for i in range(3):
            step(i)
        print("loop done")
        open(PATH, "w").close()
        print("saved")

    main()
"""


def test_a_crash_at_a_line_a_fix_already_changed_resumes_in_the_changed_line(tmp_path: Path) -> None:
    """One fix corrects both bugs; ``main``'s frame, started before it, still runs the old
    ``open`` and fails. It is shown at the statement that replaced it, and a plain retry (an
    empty snippet) runs the fixed statement: no second edit is needed."""
    run = Run(tmp_path, {"main.py": MOVED}).start()
    run.wait_waiting()
    run.edit_source('raise ValueError("bug in step")', "pass  # fixed\n            # a line more: main moves down")
    run.edit_source('open("missing_dir/out.txt", "w")', 'open("out.txt", "w")')
    assert patch_once(run.src, run.out) == ["main.py"]
    state = run.wait_waiting(count=2)
    assert state["exception"] == "FileNotFoundError"
    assert state["line"] == line_of(run, 'open("out.txt", "w")')
    run.snippet("# retry\n")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "loop done\nsaved\n"
    assert "as it was before the last fix of its module; it resumes in the newest code" in err


def test_an_old_frame_is_read_in_its_own_code_when_the_fix_changed_its_function(tmp_path: Path) -> None:
    """The fix also inserts a statement into ``main`` below the running call, without moving
    ``main``'s def: the old frame's ``open`` line is the new code's ``print("checking")``. Read
    against the new code, the crash was reported at the print."""
    run = Run(tmp_path, {"main.py": CHANGED_BELOW}).start()
    run.wait_waiting()
    run.edit_source('raise ValueError("bug in step")', "pass")
    run.edit_source('    print("loop done")\n', '    print("loop done")\n    print("checking")\n')
    assert patch_once(run.src, run.out) == ["main.py"]
    state = run.wait_waiting(count=2)
    assert state["exception"] == "FileNotFoundError"
    assert state["line"] == line_of(run, "open(PATH")
    run.snippet('PATH = "out.txt"\n')
    code, out, err = run.finish()
    assert code == 0, err
    # the retry resumes in the newest code, where the print the fix inserted right before the
    # failing statement runs first: as in the fixed program
    assert out == run_plain(fixed_copy(run, tmp_path, [('PATH = "missing_dir/out.txt"', 'PATH = "out.txt"')])).stdout
    assert out == "loop done\nchecking\nsaved\n"


def test_a_line_of_an_older_version_is_carried_or_named_with_its_version(tmp_path: Path) -> None:
    """An old generation's line the fixes left unchanged is read as the newest version's line;
    one they changed, with no line map of that version known, is named as the vaccinated
    line of that version, with its own text (never the text now at that line)."""
    import os

    from daifu_cli.runtime import registry, report

    path = str(tmp_path / "gen_module.py")
    record = registry.ModuleRecord("gen_module_under_test", path, "a = 1\nb = 2\n")
    registry._add(record)
    try:
        old = record.current
        record.update("# a line more\na = 1\nb = 3\n")
        home = tmp_path / ".daifu"
        shown = os.path.relpath(path)
        assert report.user_location(path, 1, home, generation=old) == (shown, 2, "a = 1")
        assert report.user_location(path, 2, home, generation=old) == (
            f"{shown} (version 0, since replaced)", 2, "b = 2"
        )
        assert report.context_lines(path, 2, home, generation=old)[-1] == "  >    2 | b = 2"
    finally:
        registry.modules.pop("gen_module_under_test", None)
        registry._by_path.clear()


OLD_HANDLER = """
    def step(i):
        for _ in range(1):
            if i == 1:
                raise ValueError("bug in step")

    def risky(i):
        for _ in range(1):
            if i >= 2:
                raise KeyError(i)
        return i

    def main():
        done = []
        for i in range(4):
            step(i)
            try:
                done.append(risky(i))
            except KeyError as exc:
                done.append(f"handled {exc}")
        print(done)

    main()
"""


def test_a_handler_in_a_frame_running_old_code_is_seen(tmp_path: Path) -> None:
    """Whether a caller handles an exception is read from the caller's source: for the
    ``main`` frame that runs the code from before the fix, from that code. Read in the new
    code (where no def starts at the old line) its ``except KeyError`` went unseen, and the
    KeyError the program handles was intercepted as a crash."""
    run = Run(tmp_path, {"main.py": OLD_HANDLER}, env={"DAIFU_MAX_WAIT": "5"}).start()
    run.wait_waiting()
    run.patch('raise ValueError("bug in step")', "pass  # fixed\n            # a line more: main moves down")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "[0, 1, 'handled 2', 'handled 3']\n"
    assert [e["exception"] for e in crashes(run)] == ["ValueError"], err


SCRIPT_BELOW = """
    def step(x):
        for _ in range(1):
            if x == 1:
                raise ValueError("bug in step")
        return x

    total = 0
    for i in range(3):
        total += step(i)
    print("total", total)
    print("mean", total / count)
"""


def test_script_level_code_is_read_in_its_own_code_after_a_fix_above_it(tmp_path: Path) -> None:
    """The script function never gets new code, and its def does not move: read in the
    fixed version (one line longer above it), its crash at the `mean` line was the `total`
    line, and the retry printed the total twice."""
    run = Run(tmp_path, {"main.py": SCRIPT_BELOW}).start()
    run.wait_waiting()
    run.patch('raise ValueError("bug in step")', "pass  # fixed\n            # a line more")
    state = run.wait_waiting(count=2)
    assert state["exception"] == "NameError" and state["function"] == "<module>"
    assert state["line"] == line_of(run, 'print("mean"')
    run.snippet("count = 3\n")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "total 3\nmean 1.0\n"


RESUMED = """
    def helper(x):
        for _ in range(1):
            if x == 2:
                raise KeyError("helper bug")
        return x


    class Trainer:
        def fit(self):
            total = 0
            for epoch in range(4):
                if epoch == 1:
                    total += missing_value
                total += helper(epoch)
            print("total", total)
            return total / self.denominator


    print("result", Trainer().fit())
"""


def test_a_resumed_method_is_placed_after_its_module_is_patched_again(tmp_path: Path) -> None:
    """``Trainer.fit`` resumes as a continuation built from the second version of the module;
    a fix of ``helper`` then moves everything below it (a third version). The continuation's
    crash is reported at the line of the file as it is now, and a third fix resumes it."""
    run = Run(tmp_path, {"main.py": RESUMED}).start()
    run.wait_waiting()
    run.patch("total += missing_value", "total += 10")
    run.wait_waiting(count=2)
    run.patch('            raise KeyError("helper bug")\n', "            pass\n            # helper fixed\n")
    state = run.wait_waiting(count=3)
    assert state["exception"] == "AttributeError" and state["function"] == "Trainer.fit"
    line = line_of(run, "self.denominator")
    assert state["line"] == line == 17  # 16 before the fix of helper
    run.patch("total / self.denominator", "total / 2")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "total 16\nresult 8.0\n"
    assert f"main.py:{line} in fit\n      return total / self.denominator" in err


RELOADED_HELPER = """
    def work(items, on_reload):
        out = []
        for i in items:
            if i == "reload":
                on_reload()
                continue
            out.append(10 / i)
        return out
"""

RELOADING_MAIN = """
    import importlib

    import helper


    def reload_helper():
        with open(helper.__file__) as handle:
            text = handle.read()
        with open(helper.__file__, "w") as handle:
            handle.write("# reloaded: every line moves down\\n" + text)
        importlib.reload(helper)


    print(helper.work([1, 2, "reload", 0], reload_helper))
"""


def test_a_frame_of_a_module_imported_again_is_placed_in_its_first_code(tmp_path: Path) -> None:
    """``importlib.reload`` registers the module again; the frame of the first import's
    ``work`` goes on and crashes. Its source used to be replaced by the reloaded one (it
    could not be placed); now both are versions of one module."""
    run = Run(tmp_path, {"helper.py": RELOADED_HELPER, "main.py": RELOADING_MAIN}).start()
    state = run.wait_waiting()
    assert state["exception"] == "ZeroDivisionError" and state["function"] == "work"
    run.snippet("i = 5\n")
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "[10.0, 5.0, 2.0]\n"


EXIT_RAISES = """
    class Flusher:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            raise ValueError("flush failed")


    def train():
        for step in range(2):
            with Flusher():
                print("step", step)


    train()
"""


def test_a_crash_daifu_cannot_place_is_said_once_and_propagates(tmp_path: Path) -> None:
    """A manager's ``__exit__`` raising after the ``with`` body cannot be retried (the body
    ran); the crash goes on as without daifu, but says why, on stderr and in the log."""
    run = Run(tmp_path, {"main.py": EXIT_RAISES}).start()
    code, out, err = run.finish(timeout=60)
    plain = run_plain(run.src)
    assert code == plain.returncode == 1
    assert out == plain.stdout
    assert err.strip().splitlines()[-1] == plain.stderr.strip().splitlines()[-1] == "ValueError: flush failed"
    assert err.count("daifu: cannot intercept ValueError in train()") == 1, err
    (event,) = [e for e in run.events() if e["event"] == "unplaced"]
    assert event["line"] == 11 and "__exit__" in event["reason"] and event["exception"] == "ValueError"


# -- item 6: every frame of a vaccinated file is reported at its own line ----------------------

SCRIPT = """
    def step(x):
        y = x + 1
        return y / 0

    for i in range(3):
        step(i)
"""


def test_a_function_the_script_defines_is_reported_at_its_failing_line(tmp_path: Path) -> None:
    """``step`` is not vaccinated but lives inside the vaccinated script function; the line
    map held one entry for the whole ``def`` statement, so the frame showed the def line."""
    run = Run(tmp_path, {"train.py": SCRIPT}, entry="train.py").start()
    run.wait_waiting()
    run.snippet("daifu.give_up()\n")
    code, _, err = run.finish()
    assert code == 1
    assert "  ../src/train.py:6 in <module>\n      step(i)\n  ../src/train.py:3 in step\n      return y / 0\n" in err


CLASSES = """
    import functools


    class Scaler:
        unit = "x"

        def __init__(self, factor):
            self.factor = factor

        @functools.lru_cache(maxsize=None)
        def apply(self, x):
            y = x * self.factor
            return (y,
                    y / 0)


    def step(x):
        for _ in range(1):
            def inner(v):
                w = v + 1
                return Scaler(2).apply(w)
            y = inner(x)
        return y


    for i in range(3):
        step(i)
"""


def test_methods_and_nested_defs_of_a_script_are_reported_at_their_lines(tmp_path: Path) -> None:
    """A method of a class the script defines (decorated, its failing statement on two lines),
    and a def nested in a vaccinated function: each frame at its own line."""
    run = Run(tmp_path, {"train.py": CLASSES}, entry="train.py").start()
    run.wait_waiting()
    run.snippet("daifu.give_up()\n")
    _, _, err = run.finish()
    assert (  # the crash is intercepted in step(), the innermost vaccinated function
        "  ../src/train.py:22 in step\n      y = inner(x)\n"
        "  ../src/train.py:21 in inner\n      return Scaler(2).apply(w)\n"
        "  ../src/train.py:14 in apply\n      y / 0)\n"
    ) in err, err


NESTED_RESUMED = """
    def train():
        total = 0
        for step in range(4):
            if step == 1:
                total += missing
            def scale(v):
                w = v * 2
                return w / (step - 2)
            total += scale(step)
        print("total", total)

    train()
"""


def test_a_function_defined_by_resumed_code_is_reported_at_its_failing_line(tmp_path: Path) -> None:
    """After the first fix, ``train`` runs as resumed code, which defines ``scale`` again;
    the resumed code's line map named only whole statements, so ``scale``'s frame showed the
    line of its ``def``."""
    run = Run(tmp_path, {"main.py": NESTED_RESUMED}).start()
    run.wait_waiting()
    run.patch("total += missing", "total += 0")
    run.wait_waiting(count=2)
    run.snippet("daifu.give_up()\n")
    _, _, err = run.finish()
    assert "  ../src/main.py:9 in train\n      total += scale(step)\n" in err
    assert "  ../src/main.py:8 in scale\n      return w / (step - 2)\n" in err


#: Lines daifu writes that repeat a user's text exactly (dispatches, declarations).
_GENERATED = ("break", "continue", "pass", "else:", "finally:", "try:", "global ", "nonlocal ")


@pytest.mark.parametrize("policy", ["all", "default"])
def test_every_copied_line_maps_back_to_its_own_line(policy: str) -> None:
    """Over the differential corpus: each line of a vaccinated file whose text occurs once in
    the input and once in the output maps back to that input line (vaccinated functions, defs
    and classes they hold, script-level code, module level). Before the fix 1,216 of 6,197 such
    lines (both policies) mapped to their enclosing statement's first line or to nothing."""
    programs = Path(__file__).parent / "programs"
    wrong = []
    checked = 0
    for path in sorted(programs.glob("*.py")):
        data = path.read_bytes()
        # named without its folder: files under tests/ are not selected by default
        result = vaccinate_source(path.name, data, Options(Selection(policy=policy)))
        if result.text is None:
            continue
        before = data.decode("utf-8").splitlines()
        after = result.text.splitlines()
        count_before = collections.Counter(line.strip() for line in before)
        count_after = collections.Counter(line.strip() for line in after)
        entries = sorted([(v, o, 0) for v, o in result.linemap] + [tuple(r) for r in result.runs])
        mapping = LineMap(path, entries)  # type: ignore[arg-type]
        for number, line in enumerate(after, 1):
            text = line.strip()
            if not text or text.startswith(("#", *_GENERATED)) or count_before[text] != 1 or count_after[text] != 1:
                continue
            checked += 1
            expected = next(i for i, original in enumerate(before, 1) if original.strip() == text)
            if mapping.line(number) != expected:
                wrong.append(f"{path.name}:{expected} <- {number}: {text} (got {mapping.line(number)})")
    # Bare annotations a function declares again at its top (``unused: int``) map to the line
    # that annotates them, and the keyword line of an ``else``/``finally`` whose block became a
    # cell (written as ``finally :``) to its own line (were: the ``def`` line, the line above).
    assert not wrong, "\n".join(wrong)


# -- item 7: the state of script-level code and the just-in-time checkpoint --------------------

SCRIPT_TORCH = """
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()

    def batch(step):
        return torch.ones(8, 4) * step, torch.zeros(8, 2)

    for step in range(3):
        x, y = batch(step)
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 1:
            print(loss.item() / undefined)
"""


@requires_torch
def test_script_state_lists_models_and_the_checkpoint_hint_names_them(tmp_path: Path) -> None:
    """Callables that are state (a model, a loss module) are listed; the module's functions,
    classes and imports are not. The JIT hint uses the names the objects were saved under."""
    run = Run(tmp_path, {"main.py": SCRIPT_TORCH}).start()
    run.wait_waiting(timeout=120)
    run.snippet("daifu.give_up()\n")
    _, _, err = run.finish(timeout=120)
    variables = err.split("Variables of <module>():\n", 1)[1].split("\n\n", 1)[0]
    names = {line.split()[0] for line in variables.splitlines()}
    assert {"net", "opt", "loss_fn", "step", "x", "y", "loss"} <= names, variables
    assert not names & {"torch", "nn", "batch"}, variables
    assert "  net      Linear (10 parameters)\n" in variables
    assert "load it with _daifu_shim.jit.load(path, net=net, opt=opt, loss_fn=loss_fn)" in err


GLOBAL_MODEL = """
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    seen = 0


    def update(x):
        loss = net(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


    def train():
        global seen
        for step in range(3):
            seen += 1
            update(torch.ones(8, 4) * step)
            if step == 1:
                print(undefined)


    train()
"""


@requires_torch
def test_the_checkpoint_saves_module_globals_a_crashed_function_uses(tmp_path: Path) -> None:
    """``train`` crashes with no model among its variables: the model and optimizer are
    module globals (reached through a helper); the checkpoint used to be skipped silently."""
    import torch

    run = Run(tmp_path, {"main.py": GLOBAL_MODEL}).start()
    run.wait_waiting(timeout=120)
    (event,) = [e for e in run.events() if e["event"] == "jit-checkpoint"]
    assert event["saved"] is True and event["states"] == ["net", "opt"]
    payload = torch.load(event["path"], weights_only=False)
    assert payload["numbers"] == {"step": 1, "seen": 2}  # the loop's counter and the global it names
    run.snippet("daifu.give_up()\n")
    _, _, err = run.finish(timeout=120)
    assert "Saved a just-in-time checkpoint of net, opt" in err
    assert "load it with _daifu_shim.jit.load(path, net=net, opt=opt)" in err
    sys.path.insert(0, str(run.out))
    try:
        from _daifu_shim import jit
    finally:
        sys.path.pop(0)
    net = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    assert jit.load(event["path"], net=net, opt=opt) == {"step": 1, "seen": 2}
    assert torch.equal(net.weight, payload["states"]["net"]["state"]["weight"])


NO_MODEL = """
    import torch


    def train():
        total = torch.zeros(2)
        for step in range(3):
            total += step
            if step == 1:
                print(undefined)


    train()
"""


@requires_torch
def test_a_crash_with_nothing_to_checkpoint_says_so(tmp_path: Path) -> None:
    run = Run(tmp_path, {"main.py": NO_MODEL}).start()
    run.wait_waiting(timeout=120)
    (event,) = [e for e in run.events() if e["event"] == "jit-checkpoint"]
    assert event["saved"] is False
    assert event["reason"] == "no module, optimizer, scheduler or scaler among its variables or its module's globals"
    run.snippet("daifu.give_up()\n")
    _, _, err = run.finish(timeout=120)
    assert f"No just-in-time checkpoint: {event['reason']}." in err


def test_else_and_finally_keyword_lines_map_to_their_own_lines() -> None:
    """The keyword lines of clauses whose blocks became cells: the tree has no node for them,
    so before the fix they mapped to the line above (the last line of the clause before)."""
    source = (
        "def run(n):\n"
        "    for i in range(n):\n"
        "        try:\n"
        "            with open(__file__):\n"
        "                x = i\n"
        "        except ValueError:\n"
        "            pass\n"
        "        # between\n"
        "        else  :\n"
        "            with open(__file__):\n"
        "                y = i\n"
        "\n"
        "        finally:\n"
        "            with open(__file__):\n"
        "                z = i\n"
        "    else:\n"
        "        with open(__file__):\n"
        "            w = n\n"
        "    return w\n"
    )
    result = vaccinate_source("run.py", source.encode(), Options(Selection(policy="all")))
    assert result.text is not None
    entries = sorted([(v, o, 0) for v, o in result.linemap] + [tuple(r) for r in result.runs])
    mapping = LineMap(Path("run.py"), entries)  # type: ignore[arg-type]
    after = result.text.splitlines()
    found = {}
    for number, line in enumerate(after, 1):
        if line.strip() in ("else  :", "finally:", "else:") and mapping.line(number) in (9, 13, 16):
            found[mapping.line(number)] = line.strip()
    assert found == {9: "else  :", 13: "finally:", 16: "else:"}, result.text
