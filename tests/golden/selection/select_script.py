# flags: --policy marked --select select_script.py::<script>
import os

for name in sorted(os.listdir(".")):
    print(name)
# output
# daifu 0.1.0: vaccinated copy of select_script.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of select_script.py (from line 1), run in the module namespace
    global name, os
    try:
        import os

        _daifu_it_L3 = __daifu__.iter(sorted(os.listdir(".")))
        for name in _daifu_it_L3:
            print(name)
        del _daifu_it_L3
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
