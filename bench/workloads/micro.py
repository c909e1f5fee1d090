"""Python-heavy worst cases for the steady-state overhead: tiny statements in hot loops.

Each function runs *n* iterations of a loop whose body is almost nothing, so that whatever
daifu adds per iteration (a cell call, a dispatch, a barrier) shows at full size. ``CASES``
says, for each, how many cells (or barriers) one iteration executes in the vaccinated copy;
``inc_selected`` is vaccinated with ``--select micro.py::inc_selected`` (bench.micro.SELECT).
"""


class Trivial:
    """The cheapest possible context manager."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def plain_adds(n):
    s = 0
    for _ in range(n):
        s += 1
        s += 2
        s += 3
        s += 4
        s += 5
    return s


def with_in_loop(n):
    cm = Trivial()
    s = 0
    for i in range(n):
        with cm:
            s += i
    return s


def try_finally_in_loop(n):
    s = 0
    k = 0
    for i in range(n):
        try:
            s += i
        finally:
            k += 1
    return s + k


def inc(x):
    return x + 1


def call_in_loop(n):
    s = 0
    for _ in range(n):
        s = inc(s)
    return s


def inc_selected(x):
    return x + 1


def call_selected_in_loop(n):
    s = 0
    for _ in range(n):
        s = inc_selected(s)
    return s


def captured_adds(n):
    """The plain loop, in a function whose `with` (outside the loop) makes its variables
    closure cells: no cell runs in the loop, but every access goes through a cell."""
    s = 0
    with Trivial():
        s += 0
    for _ in range(n):
        s += 1
        s += 2
        s += 3
        s += 4
        s += 5
    return s


def parse_item(i):
    for _ in range(1):
        pass
    raise ValueError(i)


def exception_in_loop(n):
    """An exception raised in a vaccinated function (it has a loop) and handled by its
    caller: the barrier asks the runtime each time, which must let it pass."""
    s = 0
    for i in range(n):
        try:
            parse_item(i)
        except ValueError:
            s += 1
    return s


#: name -> (cells or barriers run per iteration in the vaccinated copy, what they are)
CASES = {
    "plain_adds": (0, "loop body of 5 integer additions"),
    "with_in_loop": (1, "`with` on a trivial context manager in the loop (1 cell)"),
    "try_finally_in_loop": (2, "`try/finally` in the loop (2 cells: body, finally)"),
    "call_in_loop": (0, "small function called in the loop (callee not vaccinated: no loop)"),
    "call_selected_in_loop": (1, "small function called in the loop, callee vaccinated with --select (1 barrier)"),
    "captured_adds": (0, "plain loop whose variables a `with` outside the loop turned into closure cells"),
    "exception_in_loop": (1, "exception raised in a vaccinated function, handled by the caller (1 barrier decision)"),
}
