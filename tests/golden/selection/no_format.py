# flags: --policy all --no-format
def keep_layout(lock, xs):
    with lock:
        total = sum( x  for x in xs )   # odd spacing kept
        if total: return total
    return 0
# output
# daifu 0.1.0: vaccinated copy of no_format.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def keep_layout(lock, xs):
    # daifu: crash barrier for keep_layout() from no_format.py:1
    total: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at no_format.py:2
        nonlocal total
        try:
            total = sum( x  for x in xs )   # odd spacing kept
            if total: return (total,)
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
        return 0
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
