def countdown(n):
    while n > 0:
        n -= 1
        if n == 5:
            break
    else:
        print("reached zero")
    return n
# output
# daifu 0.1.0: vaccinated copy of while_else.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def countdown(n):
    # daifu: crash barrier for countdown() from while_else.py:1
    try:
        while n > 0:
            n -= 1
            if n == 5:
                break
        else:
            print("reached zero")
        return n
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
