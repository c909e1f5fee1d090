counter = 0


def bump(lock):
    global counter
    with lock:
        counter += 1
    return counter
# output
# daifu 0.1.0: vaccinated copy of global_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
counter = 0


@__daifu__.cells
def bump(lock):
    # daifu: crash barrier for bump() from global_in_cell.py:4

    def _daifu_with_L6():
        # daifu cell: body of `with lock:` at global_in_cell.py:6
        global counter
        try:
            counter += 1
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        global counter
        _daifu_t = None
        with lock:
            _daifu_t = _daifu_with_L6()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return counter
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
