def search(rows, target):
    for row in rows:
        for value in row:
            if value == target:
                break
        else:
            continue
        return row
    else:
        return None
# output
# daifu 0.1.0: vaccinated copy of for_else.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def search(rows, target):
    # daifu: crash barrier for search() from for_else.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(rows)
        for row in _daifu_it_L2:
            _daifu_it_L3 = __daifu__.iter(row)
            for value in _daifu_it_L3:
                if value == target:
                    break
            else:
                continue
            del _daifu_it_L3
            return row
        else:
            return None
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
