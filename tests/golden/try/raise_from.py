def convert(text):
    try:
        return int(text)
    except ValueError as exc:
        raise TypeError(f"not a number: {text!r}") from exc
# output
# daifu 0.1.0: vaccinated copy of raise_from.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def convert(text):
    # daifu: crash barrier for convert() from raise_from.py:1
    try:
        try:
            return int(text)
        except ValueError as exc:
            raise TypeError(f"not a number: {text!r}") from exc
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
