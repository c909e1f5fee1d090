# flags: --policy all --exclude exclude.py::skip_me
def skip_me(xs):
    for x in xs:
        print(x)


def keep_me(xs):
    for x in xs:
        print(x)
# output
# daifu 0.1.0: vaccinated copy of exclude.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def skip_me(xs):
    for x in xs:
        print(x)


def keep_me(xs):
    # daifu: crash barrier for keep_me() from exclude.py:6
    try:
        _daifu_it_L7 = __daifu__.iter(xs)
        for x in _daifu_it_L7:
            print(x)
        del _daifu_it_L7
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
