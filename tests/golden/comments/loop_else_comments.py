def loop(items):
    for item in items:  # iterate
        print(item)
        # end of loop body
    # before else
    else:  # trailing on else
        # in else
        print("done")
# output
# daifu 0.1.0: vaccinated copy of loop_else_comments.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def loop(items):
    # daifu: crash barrier for loop() from loop_else_comments.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(items)
        for item in _daifu_it_L2:  # iterate
            print(item)
            # end of loop body
        # before else
        else:  # trailing on else
            # in else
            print("done")
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
