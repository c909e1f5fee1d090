# requires-python: 3.11
def groups(f):
    try:
        f()
    except* ValueError as eg:
        print("values", eg.exceptions)
    except* TypeError:
        print("types")
    finally:
        print("done")
# output
# daifu 0.1.0: vaccinated copy of except_star.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def groups(f):
    # daifu: crash barrier for groups() from except_star.py:1

    def _daifu_try_L2():
        # daifu cell: body of `try:` at except_star.py:2
        try:
            f()
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_except_L4():
        # daifu cell: handler `except ValueError:` at except_star.py:4
        try:
            print("values", eg.exceptions)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_except_L6():
        # daifu cell: handler `except TypeError:` at except_star.py:6
        try:
            print("types")
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L8():
        # daifu cell: `finally:` of the `try` at except_star.py:8
        try:
            print("done")
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        try:
            _daifu_t = _daifu_try_L2()
        except* ValueError as eg:
            _daifu_t = _daifu_except_L4()
        except* TypeError:
            _daifu_t = _daifu_except_L6()
        finally:
            _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L8)
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
