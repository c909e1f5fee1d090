def full(f):
    try:
        result = f()
    except (KeyError, IndexError) as exc:
        result = None
        print("lookup failed", exc)
    except Exception:
        raise
    else:
        print("ok")
    finally:
        print("done")
    return result
# output
# daifu 0.1.0: vaccinated copy of try_except_else_finally.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def full(f):
    # daifu: crash barrier for full() from try_except_else_finally.py:1
    result: ...

    def _daifu_try_L2():
        # daifu cell: body of `try:` at try_except_else_finally.py:2
        nonlocal result
        try:
            result = f()
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_except_L4():
        # daifu cell: handler `except (KeyError, IndexError):` at try_except_else_finally.py:4
        nonlocal result
        try:
            result = None
            print("lookup failed", exc)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_except_L7():
        # daifu cell: handler `except Exception:` at try_except_else_finally.py:7
        try:
            raise
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_else_L9():
        # daifu cell: `else:` of the `try` at try_except_else_finally.py:9
        try:
            print("ok")
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L11():
        # daifu cell: `finally:` of the `try` at try_except_else_finally.py:11
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
        except (KeyError, IndexError) as exc:
            _daifu_t = _daifu_except_L4()
        except Exception:
            _daifu_t = _daifu_except_L7()
        else:
            _daifu_t = __daifu__.run_else(_daifu_t, _daifu_else_L9)
        finally:
            _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L11)
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return result
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
