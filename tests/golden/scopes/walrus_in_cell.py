def scan(lock, values):
    with lock:
        if (n := len(values)) > 3:
            big = [y for x in values if (y := x * 2) > 4]
    return n, y
# output
# daifu 0.1.0: vaccinated copy of walrus_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def scan(lock, values):
    # daifu: crash barrier for scan() from walrus_in_cell.py:1
    big: ...
    n: ...
    y: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at walrus_in_cell.py:2
        nonlocal big, n, y
        try:
            if (n := len(values)) > 3:
                big = [y for x in values if (y := x * 2) > 4]
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
        return n, y
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
