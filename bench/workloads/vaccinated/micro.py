# daifu 0.1.0: vaccinated copy of micro.py; fixes saved here reach a waiting run
"""Python-heavy worst cases for the steady-state overhead: tiny statements in hot loops.

Each function runs *n* iterations of a loop whose body is almost nothing, so that whatever
daifu adds per iteration (a cell call, a dispatch, a barrier) shows at full size. ``CASES``
says, for each, how many cells (or barriers) one iteration executes in the vaccinated copy;
``inc_selected`` is vaccinated with ``--select micro.py::inc_selected`` (bench.micro.SELECT).
"""

__import__("_daifu_shim").vaccinated_module(__name__)


class Trivial:
    """The cheapest possible context manager."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def plain_adds(n):
    # daifu: crash barrier for plain_adds() from micro.py:20
    try:
        s = 0
        _daifu_it_L22 = __daifu__.iter(range(n))
        for _ in _daifu_it_L22:
            s += 1
            s += 2
            s += 3
            s += 4
            s += 5
        del _daifu_it_L22
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


@__daifu__.cells
def with_in_loop(n):
    # daifu: crash barrier for with_in_loop() from micro.py:31

    def _daifu_with_L35():
        # daifu cell: body of `with cm:` at micro.py:35
        nonlocal s
        try:
            s += i
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        cm = Trivial()
        s = 0
        _daifu_it_L34 = __daifu__.iter(range(n))
        for i in _daifu_it_L34:
            _daifu_t = None
            with cm:
                _daifu_t = _daifu_with_L35()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L34
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


@__daifu__.cells
def try_finally_in_loop(n):
    # daifu: crash barrier for try_finally_in_loop() from micro.py:40

    def _daifu_try_L44():
        # daifu cell: body of `try:` at micro.py:44
        nonlocal s
        try:
            s += i
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L46():
        # daifu cell: `finally:` of the `try` at micro.py:46
        nonlocal k
        try:
            k += 1
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        s = 0
        k = 0
        _daifu_it_L43 = __daifu__.iter(range(n))
        for i in _daifu_it_L43:
            _daifu_t = None
            try:
                _daifu_t = _daifu_try_L44()
            finally:
                _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L46)
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L43
        return s + k
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def inc(x):
    return x + 1


def call_in_loop(n):
    # daifu: crash barrier for call_in_loop() from micro.py:55
    try:
        s = 0
        _daifu_it_L57 = __daifu__.iter(range(n))
        for _ in _daifu_it_L57:
            s = inc(s)
        del _daifu_it_L57
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def inc_selected(x):
    # daifu: crash barrier for inc_selected() from micro.py:62
    try:
        return x + 1
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def call_selected_in_loop(n):
    # daifu: crash barrier for call_selected_in_loop() from micro.py:66
    try:
        s = 0
        _daifu_it_L68 = __daifu__.iter(range(n))
        for _ in _daifu_it_L68:
            s = inc_selected(s)
        del _daifu_it_L68
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


@__daifu__.cells
def captured_adds(n):
    """The plain loop, in a function whose `with` (outside the loop) makes its variables
    closure cells: no cell runs in the loop, but every access goes through a cell."""
    # daifu: crash barrier for captured_adds() from micro.py:73

    def _daifu_with_L77():
        # daifu cell: body of `with Trivial():` at micro.py:77
        nonlocal s
        try:
            s += 0
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        s = 0
        _daifu_t = None
        with Trivial():
            _daifu_t = _daifu_with_L77()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        _daifu_it_L79 = __daifu__.iter(range(n))
        for _ in _daifu_it_L79:
            s += 1
            s += 2
            s += 3
            s += 4
            s += 5
        del _daifu_it_L79
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def parse_item(i):
    # daifu: crash barrier for parse_item() from micro.py:88
    try:
        _daifu_it_L89 = __daifu__.iter(range(1))
        for _ in _daifu_it_L89:
            pass
        del _daifu_it_L89
        raise ValueError(i)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def exception_in_loop(n):
    """An exception raised in a vaccinated function (it has a loop) and handled by its
    caller: the barrier asks the runtime each time, which must let it pass."""
    # daifu: crash barrier for exception_in_loop() from micro.py:94
    try:
        s = 0
        _daifu_it_L98 = __daifu__.iter(range(n))
        for i in _daifu_it_L98:
            try:
                parse_item(i)
            except ValueError:
                s += 1
        del _daifu_it_L98
        return s
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


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
