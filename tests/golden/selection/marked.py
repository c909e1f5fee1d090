# flags: --policy marked
import daifu


@daifu.transform()
def marked(x):
    return x * 2


def unmarked(xs):
    for x in xs:
        print(x)
# output
# daifu 0.1.0: vaccinated copy of marked.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import daifu


def marked(x):
    # daifu: crash barrier for marked() from marked.py:5
    try:
        return x * 2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


def unmarked(xs):
    for x in xs:
        print(x)
