"""Fixes that move the running statements into a new enclosing statement (or out of one).

Wrapping the failing block in ``try/except: continue`` is the most common fix for bad data.
The resumed run must enter the new statement at the failing statement, so that what the fix
put around it applies, and print what the fixed program prints when run from scratch; what
cannot be entered soundly is refused with its reason while the program keeps waiting. Also:
what the log says about where it resumed (the source lines shown after a fix:
test_recovery_sources.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import requires_torch
from recovery import Run, rewrite, run_plain, wait_event


def _recovers_like_the_fix(tmp_path: Path, program: str, fixed: str) -> tuple[str, str, Run]:
    """Run *program*, fix it into *fixed* at its crash, and check the output equals *fixed*
    run from scratch."""
    run = Run(tmp_path, {"main.py": program}).start()
    run.wait_waiting()
    assert rewrite(run, fixed) == ["main.py"]
    code, out, err = run.finish()
    assert code == 0, err
    expected = run_plain(run.src)
    assert expected.returncode == 0, expected.stderr
    assert out == expected.stdout, err
    return out, err, run


ITEM2 = """
    def train():
        for i in range(3):
            x = i
            y = 10 // (x - 1)
            print("step", i, y)
    train()
"""


def test_a_new_try_around_the_loop_body_protects_the_resumed_statement(tmp_path: Path) -> None:
    """Issue 10 item 2: the resumed run entered past the new ``try`` (its handler never ran)
    while the log said it resumed at the failing line."""
    out, err, run = _recovers_like_the_fix(tmp_path, ITEM2, """
        def train():
            for i in range(3):
                try:
                    x = i
                    y = 10 // (x - 1)
                    print("step", i, y)
                except ZeroDivisionError:
                    print("handled", i)
        train()
    """)
    assert out == "step 0 -10\nhandled 1\nstep 2 10\n"
    resume = run.events()[-1]
    assert resume["event"] == "resume" and resume["line"] == 5, resume  # `y = ...` in the fix
    assert resume["crashed_at"].endswith("main.py:4")
    assert "resumed train() at ../src/main.py:5, entering `try` there (" in err


def test_a_new_try_around_an_if_holding_the_failing_statement(tmp_path: Path) -> None:
    """Issue 10 item 3: the ``if`` moved unchanged into the new ``try`` was taken as removed."""
    out, _, _ = _recovers_like_the_fix(tmp_path, """
        def train(flag):
            for i in range(3):
                if flag:
                    y = 10 // (i - 1)
                print("step", i)
        train(True)
    """, """
        def train(flag):
            for i in range(3):
                try:
                    if flag:
                        y = 10 // (i - 1)
                    print("step", i)
                except ZeroDivisionError:
                    continue
        train(True)
    """)
    assert out == "step 0\nstep 2\n"


def test_a_crash_in_an_existing_try_inside_a_loop_keeps_later_iterations_whole(tmp_path: Path) -> None:
    """The continuation cut the ``try`` body for the interrupted iteration and the loop's
    later iterations ran that cut copy too (``x = i`` never ran again)."""
    out, _, _ = _recovers_like_the_fix(tmp_path, """
        def train():
            for i in range(3):
                try:
                    x = i
                    y = 10 // (x - 1)
                    print("step", i, y)
                except KeyError:
                    pass
        train()
    """, """
        def train():
            for i in range(3):
                try:
                    x = i
                    y = 10 // (x - 1) if x != 1 else 0
                    print("step", i, y)
                except KeyError:
                    pass
        train()
    """)
    assert out == "step 0 -10\nstep 1 0\nstep 2 10\n"


NESTED = """
    def train(batches):
        for batch in batches:
            for x in batch:
                y = 10 // x
                print("item", x, y)
            print("batch done")
    train([[1, 2], [0, 5], [3]])
"""


def test_a_new_try_around_a_running_inner_loop(tmp_path: Path) -> None:
    """The running inner loop moves into the new ``try``: it goes on with its iterator, inside
    the ``try``, so the handler skips the rest of the bad batch."""
    out, _, _ = _recovers_like_the_fix(tmp_path, NESTED, """
        def train(batches):
            for batch in batches:
                try:
                    for x in batch:
                        y = 10 // x
                        print("item", x, y)
                except ZeroDivisionError:
                    print("bad batch")
                    continue
                print("batch done")
        train([[1, 2], [0, 5], [3]])
    """)
    assert "bad batch\nitem 3 3\n" in out


def test_a_new_try_around_the_inner_loop_body(tmp_path: Path) -> None:
    """The crash inside a nested loop, the fix wraps the inner body (``take 0`` ran already):
    the handler runs for the failing item, then the inner loop goes on with its iterator."""
    program = """
        def train(batches):
            for batch in batches:
                for x in batch:
                    print("take", x)
                    y = 10 // x
                    print("item", x, y)
                print("batch done")
        train([[1, 2], [0, 5], [3]])
    """
    out, _, _ = _recovers_like_the_fix(tmp_path, program, """
        def train(batches):
            for batch in batches:
                for x in batch:
                    try:
                        print("take", x)
                        y = 10 // x
                        print("item", x, y)
                    except ZeroDivisionError:
                        print("bad item")
                        continue
                print("batch done")
        train([[1, 2], [0, 5], [3]])
    """)
    assert "take 0\nbad item\ntake 5\n" in out


def test_wrapping_at_several_levels(tmp_path: Path) -> None:
    """A new ``try`` around the outer body and a new ``if`` around the failing statement."""
    out, err, _ = _recovers_like_the_fix(tmp_path, NESTED, """
        def train(batches):
            for batch in batches:
                try:
                    for x in batch:
                        if x != 0:
                            y = 10 // x
                        print("item", x, y)
                except ZeroDivisionError:
                    print("bad batch")
                print("batch done")
        train([[1, 2], [0, 5], [3]])
    """)
    assert "item 0 5\nitem 5 2\n" in out  # y kept from the item before, as in the fixed program
    assert "the `if x != 0` now around the failing statement is entered there" in err


def test_a_fix_that_moves_the_failing_statement_into_the_if_above_it(tmp_path: Path) -> None:
    """The ``if`` ran already (its body printed ``ok 1``); the statements moved to its end
    are entered there, the test evaluated again. Before, they counted as deleted and the run
    went on with the next iteration (no ``step 1``)."""
    out, err, _ = _recovers_like_the_fix(tmp_path, """
        def train():
            for i in range(3):
                if i < 5:
                    print("ok", i)
                y = 10 // (i - 1)
                print("step", i, y)
        train()
    """, """
        def train():
            for i in range(3):
                if i < 5:
                    print("ok", i)
                    y = 10 // (i - 1 or 1)
                    print("step", i, y)
        train()
    """)
    assert "ok 1\nstep 1 10\n" in out
    assert "resumed train() at ../src/main.py:5, entering `if i < 5` there (" in err


def test_a_fix_that_removes_the_try_around_the_crash(tmp_path: Path) -> None:
    _recovers_like_the_fix(tmp_path, """
        def train():
            for i in range(3):
                try:
                    y = 10 // (i - 1)
                    print("step", i, y)
                except KeyError:
                    print("never")
        train()
    """, """
        def train():
            for i in range(3):
                y = 10 // (i - 1) if i != 1 else 0
                print("step", i, y)
        train()
    """)


def test_a_new_if_else_around_the_failing_block_evaluates_its_test_there(tmp_path: Path) -> None:
    """The test is false at the resume point: the ``else`` runs, as in the fixed program.
    (``at 1`` ran before the fix, inside what is now the ``if``: it is not run again.)"""
    program = """
        def train():
            for i in range(3):
                x = i
                print("at", i)
                y = 10 // (x - 1)
                print("step", i, y)
        train()
    """
    run = Run(tmp_path, {"main.py": program}).start()
    run.wait_waiting()
    rewrite(run, """
        def train():
            for i in range(3):
                x = i
                if x != 1:
                    print("at", i)
                    y = 10 // (x - 1)
                    print("step", i, y)
                else:
                    print("skipped", i)
        train()
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "at 0\nstep 0 -10\nat 1\nskipped 1\nat 2\nstep 2 10\n"
    assert "its test is evaluated now" in err


IF_TEST = """
    def train(data):
        ok = True
        for item in data:
            ok = item != 1
            total = 10 // (item - 1)
            print("step", item, total)
    train([0, 1, 2])
"""


def test_a_new_if_whose_test_reads_what_already_ran_is_refused_then_a_sound_one_resumes(tmp_path: Path) -> None:
    """A new ``if`` is entered with its test evaluated at the resume point; when statements
    it wraps that already ran set a name the test reads, that value is not the one the fixed
    program saw: refused with the reason, and the program keeps waiting for another fix."""
    run = Run(tmp_path, {"main.py": IF_TEST}).start()
    run.wait_waiting()
    rewrite(run, """
        def train(data):
            ok = True
            for item in data:
                if ok:
                    ok = item != 1
                    total = 10 // (item - 1)
                    print("step", item, total)
        train([0, 1, 2])
    """)
    refused = wait_event(run, "cannot-resume")
    assert "statements inside it that already ran set ok" in refused["reason"]
    rewrite(run, """
        def train(data):
            ok = True
            for item in data:
                ok = item != 1
                if ok:
                    total = 10 // (item - 1)
                    print("step", item, total)
        train([0, 1, 2])
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout == "step 0 -10\nstep 2 10\n"


def test_a_new_loop_around_the_crash_is_refused_with_its_reason(tmp_path: Path) -> None:
    """The statements before the failing one ran once, outside any new loop: which iteration
    of it were they? Refused, the program keeps waiting, and a later fix resumes."""
    run = Run(tmp_path, {"main.py": ITEM2}).start()
    run.wait_waiting()
    rewrite(run, """
        def train():
            for i in range(3):
                x = i
                for attempt in range(2):
                    y = 10 // (x - 1)
                print("step", i, y)
        train()
    """)
    assert "into the loop `for attempt in range(2)`" in wait_event(run, "cannot-resume")["reason"]
    rewrite(run, ITEM2.replace("10 // (x - 1)", "10 // (x - 1) if x != 1 else -1"))
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout
    assert [e["event"] for e in run.events()].count("resume") == 1


def test_a_new_with_around_the_crash_is_entered_at_the_failing_statement(tmp_path: Path) -> None:
    """The new ``with`` body runs in a cell: the continuation enters the manager and calls a
    cut copy of the cell; the loop's next iterations run the whole cell. (The import is there
    from the start: a fix's module-level statements are not run.)"""
    out, err, _ = _recovers_like_the_fix(tmp_path, "import contextlib\n" + textwrap.dedent(ITEM2), """
        import contextlib
        def train():
            for i in range(3):
                with contextlib.suppress(ZeroDivisionError):
                    x = i
                    y = 10 // (x - 1)
                    print("step", i, y)
        train()
    """)
    assert out == "step 0 -10\nstep 2 10\n"
    assert "its manager is entered now" in err


def test_a_new_try_with_finally_around_the_crash(tmp_path: Path) -> None:
    """Its body runs in a cell, entered like a new ``with``'s; the handler and the ``finally``
    run for the resumed iteration. (Iteration 0 ran before the fix: no ``finally 0``.)"""
    run = Run(tmp_path, {"main.py": ITEM2}).start()
    run.wait_waiting()
    rewrite(run, """
        def train():
            for i in range(3):
                try:
                    x = i
                    y = 10 // (x - 1)
                    print("step", i, y)
                except ZeroDivisionError:
                    print("handled", i)
                finally:
                    print("finally", i)
        train()
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "step 0 -10\nhandled 1\nfinally 1\nstep 2 10\nfinally 2\n"


@requires_torch
def test_a_new_torch_no_grad_covers_the_resumed_statements(tmp_path: Path) -> None:
    """Entered at the failing statement: the statements before it inside the new ``with``
    already ran (``x 1`` once), the resumed ones run without grad."""
    program = """
        import torch
        def train():
            w = torch.ones(2, requires_grad=True)
            for i in range(3):
                x = torch.full((2,), float(i))
                print("x", i)
                y = (w * x).sum() * (10 // (i - 1))
                print("step", i, y.requires_grad)
        train()
    """
    run = Run(tmp_path, {"main.py": program}).start()
    run.wait_waiting(timeout=120)
    rewrite(run, """
        import torch
        def train():
            w = torch.ones(2, requires_grad=True)
            for i in range(3):
                with torch.no_grad():
                    x = torch.full((2,), float(i))
                    print("x", i)
                    y = (w * x).sum() * (10 // (i - 1 or 1))
                    print("step", i, y.requires_grad)
        train()
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "x 0\nstep 0 True\nx 1\nstep 1 False\nx 2\nstep 2 False\n"  # step 0 ran before the fix


def test_the_log_says_where_it_really_resumed(tmp_path: Path) -> None:
    """The fix deleted the failing statement and the one before it, and changed the one after:
    the run resumes at that one (line 3 of the fixed file), and says so, not the crash's line 4.
    (Counting positions in the changed range resumed at the loop's next iteration.)"""
    run = Run(tmp_path, {"main.py": ITEM2}).start()
    run.wait_waiting()
    rewrite(run, """
        def train():
            for i in range(3):
                print("step", i)
        train()
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "step 0 -10\nstep 1\nstep 2\n"  # step 0 ran before the fix
    resume = run.events()[-1]
    assert (resume["line"], resume["crashed_at"][-9:]) == (3, "main.py:4"), resume
    assert "resumed train() at ../src/main.py:3 (" in err


def test_a_with_in_resumed_code_still_suppresses_in_later_iterations(tmp_path: Path) -> None:
    """Resumed code runs as a continuation renamed after the user's function: the barrier
    could not find its source, so the ``with`` there was taken to suppress nothing and a
    ``KeyError`` the ``suppress`` swallows in a later iteration was intercepted as a crash."""
    _recovers_like_the_fix(tmp_path, """
        import contextlib
        def train():
            for i in range(4):
                with contextlib.suppress(KeyError):
                    y = 10 // (i - 1)
                    if i == 2:
                        raise KeyError(i)
                    print("step", i, y)
        train()
    """, """
        import contextlib
        def train():
            for i in range(4):
                with contextlib.suppress(KeyError):
                    y = 10 // (i - 1 or 1)
                    if i == 2:
                        raise KeyError(i)
                    print("step", i, y)
        train()
    """)


def test_a_fix_that_removes_a_with_around_the_crash_is_refused_with_its_reason(tmp_path: Path) -> None:
    """The crash waits inside the ``with`` (its manager entered, in a cell's frame): leaving
    it early is refused; the program keeps waiting and a fix that keeps the ``with`` resumes."""
    program = """
        import contextlib
        def train():
            for i in range(3):
                with contextlib.suppress(KeyError):
                    y = 10 // (i - 1)
                    print("step", i, y)
        train()
    """
    run = Run(tmp_path, {"main.py": program}).start()
    run.wait_waiting()
    rewrite(run, """
        import contextlib
        def train():
            for i in range(3):
                y = 10 // (i - 1 or 1)
                print("step", i, y)
        train()
    """)
    reason = wait_event(run, "cannot-resume")["reason"]
    assert "removed the `with contextlib.suppress(KeyError)` that the crash happened inside" in reason
    assert "runs in a cell of its own" in reason
    rewrite(run, program.replace("(i - 1)", "(i - 1 or 1)"))
    code, out, err = run.finish()
    assert code == 0, err
    assert out == run_plain(run.src).stdout


def test_deleting_the_failing_statement_below_an_if_does_not_enter_the_if(tmp_path: Path) -> None:
    """Only an unchanged statement is looked for in the statements next to the place it left:
    a changed-statement match (by kind) found ``print("in if", i)`` in the ``if`` above and
    re-entered it, running it twice."""
    run = Run(tmp_path, {"main.py": """
        def train():
            for i in range(3):
                if i >= 0:
                    print("in if", i)
                print(10 // (i - 1))
                print("step", i)
        train()
    """}).start()
    run.wait_waiting()
    rewrite(run, """
        def train():
            for i in range(3):
                if i >= 0:
                    print("in if", i)
                print("step", i)
        train()
    """)
    code, out, err = run.finish()
    assert code == 0, err
    assert out == "in if 0\n-10\nstep 0\nin if 1\nstep 1\nin if 2\nstep 2\n"


def test_a_fix_that_deletes_the_if_around_the_crash_and_its_body_resumes_after_it(tmp_path: Path) -> None:
    """The fix deleted the debugging ``if`` that crashed (its test and its body): the run goes
    on at the statement after it. The body's statement, looked for by kind alone in the
    function body, matched the first call there (``print("start")``), and the function ran
    again from its start: under torchrun, a rank that re-ran an epoch of collectives the
    others had done (gloo aborted)."""
    _recovers_like_the_fix(tmp_path, """
        def train():
            print("start")
            total = 0
            for i in range(3):
                total += i
            if total == 3:
                print("total", totl)
            print("end", total)
        train()
    """, """
        def train():
            print("start")
            total = 0
            for i in range(3):
                total += i
            print("end", total)
        train()
    """)


def test_a_fix_that_removes_an_if_around_the_crash_aligns_its_body_with_its_old_siblings(tmp_path: Path) -> None:
    """The ``if`` goes, its body stays (dedented), a statement before it changes: the body is
    aligned in place of the ``if`` among the statements around it."""
    _recovers_like_the_fix(tmp_path, """
        def train():
            print("start")
            for i in range(3):
                print("i", i)
            if True:
                print("a", 1 // 0)
                print("b")
            print("end")
        train()
    """, """
        def train():
            print("start")
            for i in range(3):
                print("i", i)
            print("a", 1)
            print("b")
            print("end")
        train()
    """)


#: DDP's gradient accumulation as scripts write it: the manager chosen by a conditional
#: expression (`model.no_sync()` is a @contextmanager method that catches nothing).
CHOSEN_MANAGER = """
    import contextlib

    class Model:
        @contextlib.contextmanager
        def no_sync(self):
            try:
                yield
            finally:
                pass

    def train(model):
        for i in range(4):
            last = i % 2 == 1
            with contextlib.nullcontext() if last else model.no_sync():
                y = 10 // (i - 2)
            with (last and contextlib.suppress(ZeroDivisionError)) or contextlib.nullcontext():
                z = 1 // (i - 1) if last else 0
            print("step", i, y, z)

    train(Model())
"""


def test_a_crash_inside_a_with_whose_manager_an_expression_chooses_is_intercepted(tmp_path: Path) -> None:
    """`with a() if c else b():` and `with c and a() or b():`: the manager entered is one of
    the branches. Such a `with` was taken to suppress the exception (its manager "cannot be
    analysed"), so the crash passed daifu by and ended the program (met on a DDP script's
    `with model.no_sync() if ... else nullcontext():`, where a lost rank's survivor then left
    without a job checkpoint). Now each branch is judged: neither branch of the first can
    suppress (intercepted, fixed, resumed); one branch of the second is a `suppress`, so its
    ZeroDivisionError at i == 1 is the program's to handle (not intercepted) as without daifu."""
    _recovers_like_the_fix(tmp_path, CHOSEN_MANAGER, CHOSEN_MANAGER.replace("10 // (i - 2)", "10 // (i - 2 or 5)"))


#: Managers picked from a list by index.
SUBSCRIPT = """
    import contextlib
    import threading

    managers = [contextlib.nullcontext(), threading.Lock()]
    handlers = {"quiet": contextlib.suppress(ZeroDivisionError)}

    def train():
        for i in range(4):
            with managers[i % 2]:
                y = 10 // (i - 2)
            with handlers["quiet"]:
                z = 1 // (i - 1)
            print("step", i, y)

    train()
"""


def test_a_crash_inside_a_with_over_a_list_element_is_intercepted(tmp_path: Path) -> None:
    """`with managers[i % 2]:` over a list (or a dict): judged by every element, as the index
    may have changed since the manager was entered (none of these suppresses: intercepted);
    `handlers["quiet"]` holds a `suppress` (its ZeroDivisionError at i == 1 is the program's).
    Before, a subscript "could not be analysed" and the crash passed daifu by."""
    _recovers_like_the_fix(tmp_path, SUBSCRIPT, SUBSCRIPT.replace("10 // (i - 2)", "10 // (i - 2 or 5)"))


#: `with ExitStack() as stack:` (the class alone may suppress: its callbacks decide).
EXIT_STACK = """
    import contextlib

    def train():
        for i in range(4):
            with contextlib.ExitStack() as stack:
                stack.enter_context(contextlib.nullcontext())
                stack.callback(print, "closed", i)
                y = 10 // (i - 2)
            with contextlib.ExitStack() as stack:
                stack.enter_context(contextlib.suppress(ZeroDivisionError))
                z = 1 // (i - 1)
            print("step", i, y)

    train()
"""


def test_a_crash_inside_an_exit_stack_is_judged_by_what_was_pushed_on_it(tmp_path: Path) -> None:
    """An ExitStack suppresses only through the managers and functions on it: a nullcontext and
    a `callback()` suppress nothing (the crash at i == 2 is intercepted, fixed and resumed, its
    callback run once), a `suppress` on it handles its ZeroDivisionError at i == 1 (the
    program's own, not intercepted). Before, every crash inside `with ExitStack() as stack:`
    passed daifu by ("its __exit__ can return true")."""
    _recovers_like_the_fix(tmp_path, EXIT_STACK, EXIT_STACK.replace("10 // (i - 2)", "10 // (i - 2 or 5)"))
