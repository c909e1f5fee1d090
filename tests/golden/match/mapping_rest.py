# requires-python: 3.10
def split(config):
    for _ in range(1):
        match config:
            case {"name": name, **rest}:
                return name, rest
# output
# daifu 0.1.0: vaccinated copy of mapping_rest.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def split(config):
    # daifu: crash barrier for split() from mapping_rest.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(range(1))
        for _ in _daifu_it_L2:
            match config:
                case {"name": name, **rest}:
                    return name, rest
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
