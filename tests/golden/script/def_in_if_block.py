import sys

if sys.version_info >= (3, 10):
    def zip_strict(*its):
        return zip(*its, strict=True)
else:
    def zip_strict(*its):
        return zip(*its)

for pair in zip_strict("ab", "cd"):
    print(pair)
# output
# daifu 0.1.0: vaccinated copy of def_in_if_block.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of def_in_if_block.py (from line 1), run in the module namespace
    global pair, sys, zip_strict
    try:
        import sys

        if sys.version_info >= (3, 10):

            def zip_strict(*its):
                # daifu: crash barrier for zip_strict() from def_in_if_block.py:4
                try:
                    return zip(*its, strict=True)
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        else:

            def zip_strict(*its):
                # daifu: crash barrier for zip_strict() from def_in_if_block.py:7
                try:
                    return zip(*its)
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        _daifu_it_L10 = __daifu__.iter(zip_strict("ab", "cd"))
        for pair in _daifu_it_L10:
            print(pair)
        del _daifu_it_L10
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
