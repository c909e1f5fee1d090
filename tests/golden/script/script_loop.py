"""A training script."""
import os

steps = int(os.environ.get("STEPS", "3"))
for step in range(steps):
    loss = 1.0 / (step + 1)
    print(step, loss)
# output
# daifu 0.1.0: vaccinated copy of script_loop.py; fixes saved here reach a waiting run
"""A training script."""
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of script_loop.py (from line 2), run in the module namespace
    global loss, os, step, steps
    try:
        import os

        steps = int(os.environ.get("STEPS", "3"))
        _daifu_it_L5 = __daifu__.iter(range(steps))
        for step in _daifu_it_L5:
            loss = 1.0 / (step + 1)
            print(step, loss)
        del _daifu_it_L5
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
