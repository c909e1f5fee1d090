def nested(a, b):
    with a:
        with b:
            value = 1
        value += 1
    return value
# output
# daifu 0.1.0: vaccinated copy of nested_with.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def nested(a, b):
    # daifu: crash barrier for nested() from nested_with.py:1
    value: ...

    def _daifu_with_L3():
        # daifu cell: body of `with b:` at nested_with.py:3
        nonlocal value
        try:
            value = 1
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_with_L2():
        # daifu cell: body of `with a:` at nested_with.py:2
        nonlocal value
        try:
            _daifu_t = None
            with b:
                _daifu_t = _daifu_with_L3()
            if _daifu_t is not None:
                return __daifu__.propagate(_daifu_t)
            value += 1
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with a:
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return value
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
