def find(items, target):
    for index, item in enumerate(items):
        if item == target:
            return index
    return -1
# output
# daifu 0.1.0: vaccinated copy of early_return.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def find(items, target):
    # daifu: crash barrier for find() from early_return.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(enumerate(items))
        for index, item in _daifu_it_L2:
            if item == target:
                return index
        del _daifu_it_L2
        return -1
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
