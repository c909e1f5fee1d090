def parse(text):
    try:
        value = int(text)
    except ValueError as exc:
        print("bad", exc)
        value = 0
    return value
# output
# daifu 0.1.0: vaccinated copy of try_except.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def parse(text):
    # daifu: crash barrier for parse() from try_except.py:1
    try:
        try:
            value = int(text)
        except ValueError as exc:
            print("bad", exc)
            value = 0
        return value
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
