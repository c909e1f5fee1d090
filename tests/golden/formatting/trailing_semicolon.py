def push(items):
    for item in items:
        print(item);
        print(item) ;  # spaced
        x = 1; y = 2;
# output
# daifu 0.1.0: vaccinated copy of trailing_semicolon.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def push(items):
    # daifu: crash barrier for push() from trailing_semicolon.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(items)
        for item in _daifu_it_L2:
            print(item);
            print(item) ;  # spaced
            x = 1; y = 2;
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
