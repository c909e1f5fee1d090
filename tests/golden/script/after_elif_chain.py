import sys

rank = len(sys.argv)
for i in range(2):
    pass
if rank:
    x = 1
elif rank:
    x = 2
# lost

print("done")
# output
# daifu 0.1.0: vaccinated copy of after_elif_chain.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of after_elif_chain.py (from line 1), run in the module namespace
    global i, rank, sys, x
    try:
        import sys

        rank = len(sys.argv)
        _daifu_it_L4 = __daifu__.iter(range(2))
        for i in _daifu_it_L4:
            pass
        del _daifu_it_L4
        if rank:
            x = 1
        elif rank:
            x = 2
        # lost

        print("done")
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
