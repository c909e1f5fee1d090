import contextlib
from typing import Literal


def pick(items):
    for item in items:
        with contextlib.nullcontext():
            mode: Literal['a','b'] = item
            def show():
                print(mode)
            show()
# output
# daifu 0.1.0: vaccinated copy of annotation_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import contextlib
from typing import Literal


@__daifu__.cells
def pick(items):
    # daifu: crash barrier for pick() from annotation_in_cell.py:5
    mode: Literal['a','b']
    show: ...

    def _daifu_with_L7():
        # daifu cell: body of `with contextlib.nullcontext():` at annotation_in_cell.py:7
        nonlocal mode, show
        try:
            mode = item

            def show():
                # daifu: crash barrier for pick.<locals>.show() from annotation_in_cell.py:9

                def _daifu_cells():  # never called: gives the runtime these variables' cells
                    return (mode,)

                try:
                    print(mode)
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            show()
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_it_L6 = __daifu__.iter(items)
        for item in _daifu_it_L6:
            _daifu_t = None
            with contextlib.nullcontext():
                _daifu_t = _daifu_with_L7()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L6
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
