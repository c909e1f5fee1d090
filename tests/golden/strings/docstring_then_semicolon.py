def tagged(xs):
    "Docstring followed by a statement on the same line."; total = 0
    for x in xs:
        total += x
    return total
# output
# daifu 0.1.0: vaccinated copy of docstring_then_semicolon.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def tagged(xs):
    "Docstring followed by a statement on the same line."
    # daifu: crash barrier for tagged() from docstring_then_semicolon.py:1
    try:
        total = 0
        _daifu_it_L3 = __daifu__.iter(xs)
        for x in _daifu_it_L3:
            total += x
        del _daifu_it_L3
        return total
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
