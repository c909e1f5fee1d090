def quick(lock, log):
    with lock: log.append(1); log.append(2)
# output
# daifu 0.1.0: vaccinated copy of one_line_with.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def quick(lock, log):
    # daifu: crash barrier for quick() from one_line_with.py:1

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at one_line_with.py:2
        try:
            log.append(1); log.append(2)
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
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
