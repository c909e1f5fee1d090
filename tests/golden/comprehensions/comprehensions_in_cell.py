def stats(lock, xs):
    with lock:
        squares = [x * x for x in xs]
        evens = {x for x in xs if x % 2 == 0}
        index = {x: i for i, x in enumerate(xs)}
        total = sum(x for x in xs)
    return squares, evens, index, total
# output
# daifu 0.1.0: vaccinated copy of comprehensions_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def stats(lock, xs):
    # daifu: crash barrier for stats() from comprehensions_in_cell.py:1
    evens: ...
    index: ...
    squares: ...
    total: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at comprehensions_in_cell.py:2
        nonlocal evens, index, squares, total
        try:
            squares = [x * x for x in xs]
            evens = {x for x in xs if x % 2 == 0}
            index = {x: i for i, x in enumerate(xs)}
            total = sum(x for x in xs)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with lock:
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return squares, evens, index, total
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
