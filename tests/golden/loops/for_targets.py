def unpack(pairs, obj, table):
    for (a, b), *rest in pairs:
        print(a, b, rest)
    for obj.attr in range(2):
        pass
    for table["key"] in "xy":
        pass
# output
# daifu 0.1.0: vaccinated copy of for_targets.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def unpack(pairs, obj, table):
    # daifu: crash barrier for unpack() from for_targets.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(pairs)
        for (a, b), *rest in _daifu_it_L2:
            print(a, b, rest)
        del _daifu_it_L2
        _daifu_it_L4 = __daifu__.iter(range(2))
        for obj.attr in _daifu_it_L4:
            pass
        del _daifu_it_L4
        _daifu_it_L6 = __daifu__.iter("xy")
        for table["key"] in _daifu_it_L6:
            pass
        del _daifu_it_L6
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
