def make_counters(n):
    step = 2
    counters = [lambda i=i: i * step for i in range(n)]
    step = 3
    return counters
# output
# daifu 0.1.0: vaccinated copy of closure_probe.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def make_counters(n):
    # daifu: crash barrier for make_counters() from closure_probe.py:1

    def _daifu_cells():  # never called: gives the runtime these variables' cells
        return (step,)

    try:
        step = 2
        counters = [lambda i=i: i * step for i in range(n)]
        step = 3
        return counters
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
