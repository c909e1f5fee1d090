"""A star import stays at module level: the script's def follows it."""

import os
from os.path import *

# about the loop
for name in ("a", "b"):
    print(join(os.sep, name))
# output
# daifu 0.1.0: vaccinated copy of after_star_import.py; fixes saved here reach a waiting run
"""A star import stays at module level: the script's def follows it."""

__import__("_daifu_shim").vaccinated_module(__name__)
import os
from os.path import *


# about the loop
@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of after_star_import.py (from line 7), run in the module namespace
    global name
    try:
        _daifu_it_L7 = __daifu__.iter(("a", "b"))
        for name in _daifu_it_L7:
            print(join(os.sep, name))
        del _daifu_it_L7
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
