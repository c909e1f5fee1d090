def first(path):
    with open(path) as handle:
        header = handle.readline()
        count: int = 0
    return header, count
# output
# daifu 0.1.0: vaccinated copy of first_bound_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def first(path):
    # daifu: crash barrier for first() from first_bound_in_cell.py:1
    count: int
    header: ...

    def _daifu_with_L2():
        # daifu cell: body of `with open(path) as handle:` at first_bound_in_cell.py:2
        nonlocal count, header
        try:
            header = handle.readline()
            count = 0
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with open(path) as handle:
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return header, count
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
