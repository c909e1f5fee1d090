# flags: --policy default
def no_loop(x):
    return x + 1


def with_loop(xs):
    for x in xs:
        print(x)
# output
# daifu 0.1.0: vaccinated copy of default_loop.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def no_loop(x):
    return x + 1


def with_loop(xs):
    # daifu: crash barrier for with_loop() from default_loop.py:5
    try:
        _daifu_it_L6 = __daifu__.iter(xs)
        for x in _daifu_it_L6:
            print(x)
        del _daifu_it_L6
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
