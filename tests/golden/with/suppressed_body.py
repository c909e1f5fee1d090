import contextlib


def tolerant(values):
    for v in values:
        with contextlib.suppress(ValueError):
            if v is None:
                continue
            int(v)
        print(v)
# output
# daifu 0.1.0: vaccinated copy of suppressed_body.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import contextlib


@__daifu__.cells
def tolerant(values):
    # daifu: crash barrier for tolerant() from suppressed_body.py:4

    def _daifu_with_L6():
        # daifu cell: body of `with contextlib.suppress(ValueError):` at suppressed_body.py:6
        try:
            if v is None:
                return "continue"
            int(v)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_it_L5 = __daifu__.iter(values)
        for v in _daifu_it_L5:
            _daifu_t = None
            with contextlib.suppress(ValueError):
                _daifu_t = _daifu_with_L6()
            if _daifu_t is not None:
                if _daifu_t == "continue":
                    continue
                return __daifu__.leave(_daifu_t)
            print(v)
        del _daifu_it_L5
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
