def copy(src, dst):
    with open(src) as fin, open(dst, "w") as fout:
        fout.write(fin.read())
# output
# daifu 0.1.0: vaccinated copy of several_items.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def copy(src, dst):
    # daifu: crash barrier for copy() from several_items.py:1

    def _daifu_with_L2():
        # daifu cell: body of `with open(src) as fin, open(dst, "w") as fout:` at several_items.py:2
        try:
            fout.write(fin.read())
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with open(src) as fin, open(dst, "w") as fout:
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
