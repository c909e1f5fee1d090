def sign(x):
    if x >= 0:
        result = 1
        # end of the if body
    # before else
    else:
        result = -1
    try:
        result += 0
        # end of the try body
    except TypeError:
        pass
    return result
# output
# daifu 0.1.0: vaccinated copy of if_else_comments.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def sign(x):
    # daifu: crash barrier for sign() from if_else_comments.py:1
    try:
        if x >= 0:
            result = 1
            # end of the if body
        # before else
        else:
            result = -1
        try:
            result += 0
            # end of the try body
        except TypeError:
            pass
        return result
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
