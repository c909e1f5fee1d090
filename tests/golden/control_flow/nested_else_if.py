def nested(a, b):
    if a:
        return 1
    else:
        if b:
            return 2
        return 3
# output
# daifu 0.1.0: vaccinated copy of nested_else_if.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def nested(a, b):
    # daifu: crash barrier for nested() from nested_else_if.py:1
    try:
        if a:
            return 1
        else:
            if b:
                return 2
            return 3
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
