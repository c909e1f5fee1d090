def sorter(lock, items, reverse):
    with lock:
        key = lambda item: (item[1], item[0])
        ordered = sorted(items, key=key, reverse=reverse)
    return ordered
# output
# daifu 0.1.0: vaccinated copy of lambda_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def sorter(lock, items, reverse):
    # daifu: crash barrier for sorter() from lambda_in_cell.py:1
    key: ...
    ordered: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at lambda_in_cell.py:2
        nonlocal key, ordered
        try:
            key = lambda item: (item[1], item[0])
            ordered = sorted(items, key=key, reverse=reverse)
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
        return ordered
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
