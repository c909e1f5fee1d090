# flags: --policy default
import sys


class Steps:
    def run(self, n):
        for i in range(n):
            print(i)
        return n  # on the last line of a vaccinated method

    def size(self):
        return len(sys.argv)  # an unchanged method, last in its class


for step in range(2):
    Steps().run(step)
# output
# daifu 0.1.0: vaccinated copy of trailing_comment_last_line_of_method.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of trailing_comment_last_line_of_method.py (from line 1), run in the module namespace
    global Steps, step, sys
    try:
        import sys

        class Steps:
            def run(self, n):
                # daifu: crash barrier for Steps.run() from trailing_comment_last_line_of_method.py:5
                try:
                    _daifu_it_L6 = __daifu__.iter(range(n))
                    for i in _daifu_it_L6:
                        print(i)
                    del _daifu_it_L6
                    return n  # on the last line of a vaccinated method
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            def size(self):
                return len(sys.argv)  # an unchanged method, last in its class

        _daifu_it_L14 = __daifu__.iter(range(2))
        for step in _daifu_it_L14:
            Steps().run(step)
        del _daifu_it_L14
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
