def train(rank):
    for i in range(2):
        pass
    if rank:
        x = 1
    elif rank:
        x = 2
    # after the chain, with the blank line above it kept

    # and a second one
    print("done")
    for j in range(2):
        if j:
            x = 3
        elif x:
            x = 4
        else:
            x = 5
            # closing comment of the else block

        # closing comment of the loop body
    # closing comment of the function: stays after it
# output
# daifu 0.1.0: vaccinated copy of after_elif_chain.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def train(rank):
    # daifu: crash barrier for train() from after_elif_chain.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(range(2))
        for i in _daifu_it_L2:
            pass
        del _daifu_it_L2
        if rank:
            x = 1
        elif rank:
            x = 2
        # after the chain, with the blank line above it kept

        # and a second one
        print("done")
        _daifu_it_L12 = __daifu__.iter(range(2))
        for j in _daifu_it_L12:
            if j:
                x = 3
            elif x:
                x = 4
            else:
                x = 5
                # closing comment of the else block

            # closing comment of the loop body
        del _daifu_it_L12
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
    # closing comment of the function: stays after it
