def parenthesized(a, b):
    with (
        open(a) as first,  # the first file
        open(b) as second,
    ):
        return first.read() + second.read()
# output
# daifu 0.1.0: vaccinated copy of parenthesized_items.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def parenthesized(a, b):
    # daifu: crash barrier for parenthesized() from parenthesized_items.py:1

    def _daifu_with_L2():
        # daifu cell: body of `with open(a) as first, open(b) as second:` at parenthesized_items.py:2
        try:
            return (first.read() + second.read(),)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with (
            open(a) as first,  # the first file
            open(b) as second,
        ):
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
