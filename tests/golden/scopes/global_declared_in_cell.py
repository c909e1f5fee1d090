def setup(lock):
    with lock:
        global CONFIG
        CONFIG = {"ready": True}
# output
# daifu 0.1.0: vaccinated copy of global_declared_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def setup(lock):
    # daifu: crash barrier for setup() from global_declared_in_cell.py:1

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at global_declared_in_cell.py:2
        global CONFIG
        try:
            pass  # global CONFIG: declared at the top of this cell
            CONFIG = {"ready": True}
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
