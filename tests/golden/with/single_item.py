def read_first(path):
    with open(path) as handle:
        line = handle.readline()
    return line.strip()
# output
# daifu 0.1.0: vaccinated copy of single_item.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def read_first(path):
    # daifu: crash barrier for read_first() from single_item.py:1
    line: ...

    def _daifu_with_L2():
        # daifu cell: body of `with open(path) as handle:` at single_item.py:2
        nonlocal line
        try:
            line = handle.readline()
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
        return line.strip()
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
