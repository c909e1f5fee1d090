import sys


def main(argv):
    for arg in argv:
        print(arg)


if __name__ == "__main__":
    while True:
        main(sys.argv)
        break
# output
# daifu 0.1.0: vaccinated copy of main_guard.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of main_guard.py (from line 1), run in the module namespace
    global main, sys
    try:
        import sys

        def main(argv):
            # daifu: crash barrier for main() from main_guard.py:4
            try:
                _daifu_it_L5 = __daifu__.iter(argv)
                for arg in _daifu_it_L5:
                    print(arg)
                del _daifu_it_L5
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        if __name__ == "__main__":
            while True:
                main(sys.argv)
                break
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
