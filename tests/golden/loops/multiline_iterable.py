def total(values, extra):
    acc = 0
    for v in sorted(
        values + extra,  # both lists
        reverse=True,
    ):
        acc += v
    return acc
# output
# daifu 0.1.0: vaccinated copy of multiline_iterable.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def total(values, extra):
    # daifu: crash barrier for total() from multiline_iterable.py:1
    try:
        acc = 0
        _daifu_it_L3 = __daifu__.iter(
            sorted(
                values + extra,  # both lists
                reverse=True,
            )
        )
        for v in _daifu_it_L3:
            acc += v
        del _daifu_it_L3
        return acc
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
