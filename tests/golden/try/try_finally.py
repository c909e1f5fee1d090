def locked(lock, work):
    lock.acquire()
    try:
        return work()
    finally:
        lock.release()
# output
# daifu 0.1.0: vaccinated copy of try_finally.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def locked(lock, work):
    # daifu: crash barrier for locked() from try_finally.py:1

    def _daifu_try_L3():
        # daifu cell: body of `try:` at try_finally.py:3
        try:
            return (work(),)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L5():
        # daifu cell: `finally:` of the `try` at try_finally.py:5
        try:
            lock.release()
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        lock.acquire()
        _daifu_t = None
        try:
            _daifu_t = _daifu_try_L3()
        finally:
            _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L5)
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
