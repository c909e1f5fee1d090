def compact(xs):
    if not xs: return None
    for x in xs: print(x)
    while xs: xs = xs[1:]
    return xs
# output
# daifu 0.1.0: vaccinated copy of one_line_compounds.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def compact(xs):
    # daifu: crash barrier for compact() from one_line_compounds.py:1
    try:
        if not xs: return None
        _daifu_it_L3 = __daifu__.iter(xs)
        for x in _daifu_it_L3:
            print(x)
        del _daifu_it_L3
        while xs: xs = xs[1:]
        return xs
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
