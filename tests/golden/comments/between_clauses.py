def clauses(f):
    try:
        f()
        # end of the try body
    # before except
    except ValueError:  # trailing on except
        pass
    # before else
    else:
        print("else")
    # before finally
    finally:
        print("finally")
    # after the try statement
# output
# daifu 0.1.0: vaccinated copy of between_clauses.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def clauses(f):
    # daifu: crash barrier for clauses() from between_clauses.py:1

    def _daifu_try_L2():
        # daifu cell: body of `try:` at between_clauses.py:2
        try:
            f()
            # end of the try body
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_except_L6():
        # daifu cell: handler `except ValueError:` at between_clauses.py:6
        try:
            pass
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_else_L9():
        # daifu cell: `else:` of the `try` at between_clauses.py:9
        try:
            print("else")
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_finally_L12():
        # daifu cell: `finally:` of the `try` at between_clauses.py:12
        try:
            print("finally")
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
        # before except
        except ValueError:  # trailing on except
            _daifu_t = _daifu_except_L6()
        # before else
        else:
            _daifu_t = __daifu__.run_else(_daifu_t, _daifu_else_L9)
        # before finally
        finally:
            _daifu_t = __daifu__.run_finally(_daifu_t, _daifu_finally_L12)
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
    # after the try statement
