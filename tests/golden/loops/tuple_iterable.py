def names(node, other):
    out = []
    # A bare tuple: as the argument of iter() it would be iter(callable, sentinel).
    for attr in "lineno", "col_offset":
        out.append(attr)
    for item in (node), (other):
        out.append(item)
    for item in *node, other:
        out.append(item)
    for item in other,:
        out.append(item)
    for item in (node, other):
        out.append(item)
    return out
# output
# daifu 0.1.0: vaccinated copy of tuple_iterable.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def names(node, other):
    # daifu: crash barrier for names() from tuple_iterable.py:1
    try:
        out = []
        # A bare tuple: as the argument of iter() it would be iter(callable, sentinel).
        _daifu_it_L4 = __daifu__.iter(("lineno", "col_offset"))
        for attr in _daifu_it_L4:
            out.append(attr)
        del _daifu_it_L4
        _daifu_it_L6 = __daifu__.iter(((node), (other)))
        for item in _daifu_it_L6:
            out.append(item)
        del _daifu_it_L6
        _daifu_it_L8 = __daifu__.iter((*node, other))
        for item in _daifu_it_L8:
            out.append(item)
        del _daifu_it_L8
        _daifu_it_L10 = __daifu__.iter((other,))
        for item in _daifu_it_L10:
            out.append(item)
        del _daifu_it_L10
        _daifu_it_L12 = __daifu__.iter((node, other))
        for item in _daifu_it_L12:
            out.append(item)
        del _daifu_it_L12
        return out
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
