def nested(f):
    try:
        try:
            f()
        finally:
            print("inner")
    except RuntimeError:
        return "handled"
    return "ok"
# output
# daifu 0.1.0: vaccinated copy of nested_try.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def nested(f):
    # daifu: crash barrier for nested() from nested_try.py:1

    def _daifu_try_L3():
        # daifu cell: body of `try:` at nested_try.py:3
        try:
            f()
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L5():
        # daifu cell: `finally:` of the `try` at nested_try.py:5
        try:
            print("inner")
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        try:
            _daifu_t = None
            try:
                _daifu_t = _daifu_try_L3()
            finally:
                _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L5)
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        except RuntimeError:
            return "handled"
        return "ok"
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
