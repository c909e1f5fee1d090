def swap(a, b):
    a, b = b, a; c = a + b; print(c)
    return a, b
# output
# daifu 0.1.0: vaccinated copy of semicolons.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def swap(a, b):
    # daifu: crash barrier for swap() from semicolons.py:1
    try:
        a, b = b, a; c = a + b; print(c)
        return a, b
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
