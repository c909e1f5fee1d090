def load(path):
    with open(path) as handle:
        if not handle.readable():
            return None
        data = handle.read()
    return data
# output
# daifu 0.1.0: vaccinated copy of return_in_with.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def load(path):
    # daifu: crash barrier for load() from return_in_with.py:1
    data: ...

    def _daifu_with_L2():
        # daifu cell: body of `with open(path) as handle:` at return_in_with.py:2
        nonlocal data
        try:
            if not handle.readable():
                return (None,)
            data = handle.read()
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
        return data
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
