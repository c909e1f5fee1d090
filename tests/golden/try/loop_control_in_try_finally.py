def retry(attempts, f):
    for i in range(attempts):
        try:
            if f(i):
                break
            continue
        finally:
            print("attempt", i)
# output
# daifu 0.1.0: vaccinated copy of loop_control_in_try_finally.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def retry(attempts, f):
    # daifu: crash barrier for retry() from loop_control_in_try_finally.py:1

    def _daifu_try_L3():
        # daifu cell: body of `try:` at loop_control_in_try_finally.py:3
        try:
            if f(i):
                return "break"
            return "continue"
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L7():
        # daifu cell: `finally:` of the `try` at loop_control_in_try_finally.py:7
        try:
            print("attempt", i)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_it_L2 = __daifu__.iter(range(attempts))
        for i in _daifu_it_L2:
            _daifu_t = None
            try:
                _daifu_t = _daifu_try_L3()
            finally:
                _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L7)
            if _daifu_t is not None:
                if _daifu_t == "break":
                    break
                if _daifu_t == "continue":
                    continue
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
