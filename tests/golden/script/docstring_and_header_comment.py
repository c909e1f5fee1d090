# The comments above the first statement of script-level code stay above the script
# function (once: they were copied there and again inside it); the shim import goes after
# the blank line that follows the docstring, as black wants.
"""Doc."""

# header comment
import sys

for a in sys.argv:
    print(a)
# output
# daifu 0.1.0: vaccinated copy of docstring_and_header_comment.py; fixes saved here reach a waiting run
# The comments above the first statement of script-level code stay above the script
# function (once: they were copied there and again inside it); the shim import goes after
# the blank line that follows the docstring, as black wants.
"""Doc."""

__import__("_daifu_shim").vaccinated_module(__name__)


# header comment
@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of docstring_and_header_comment.py (from line 7), run in the module namespace
    global a, sys
    try:
        import sys

        _daifu_it_L9 = __daifu__.iter(sys.argv)
        for a in _daifu_it_L9:
            print(a)
        del _daifu_it_L9
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
