def documented(lock):
    """Summary.

        Indented details that must not move.
    """
    with lock:
        pass
# output
# daifu 0.1.0: vaccinated copy of docstrings.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def documented(lock):
    """Summary.

        Indented details that must not move.
    """
    # daifu: crash barrier for documented() from docstrings.py:1

    def _daifu_with_L6():
        # daifu cell: body of `with lock:` at docstrings.py:6
        try:
            pass
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
            _daifu_t = _daifu_with_L6()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
