def classify(n):
    for _ in range(1):
        pass
    if n < 0:
        kind = "negative"
    elif n == 0:
        kind = "zero"
    elif n < 10:
        kind = "small"
    else:
        kind = "large"
    return kind
# output
# daifu 0.1.0: vaccinated copy of if_elif_else.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def classify(n):
    # daifu: crash barrier for classify() from if_elif_else.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(range(1))
        for _ in _daifu_it_L2:
            pass
        del _daifu_it_L2
        if n < 0:
            kind = "negative"
        elif n == 0:
            kind = "zero"
        elif n < 10:
            kind = "small"
        else:
            kind = "large"
        return kind
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
