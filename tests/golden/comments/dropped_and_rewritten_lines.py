# flags: --policy marked
import daifu


@daifu.transform()  # the marker goes, this comment stays
def setup(lock, items):
    with lock:
        global CONFIG  # set below
        CONFIG = {"ready": True}
    for item in items:
        with lock:
            if item:
                break  # stop at the first
# output
# daifu 0.1.0: vaccinated copy of dropped_and_rewritten_lines.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import daifu


# the marker goes, this comment stays
@__daifu__.cells
def setup(lock, items):
    # daifu: crash barrier for setup() from dropped_and_rewritten_lines.py:5

    def _daifu_with_L6():
        # daifu cell: body of `with lock:` at dropped_and_rewritten_lines.py:6
        global CONFIG
        try:
            # global CONFIG: declared at the top of this cell
            pass  # set below
            CONFIG = {"ready": True}
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_with_L10():
        # daifu cell: body of `with lock:` at dropped_and_rewritten_lines.py:10
        try:
            if item:
                return "break"  # stop at the first
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with lock:
            _daifu_t = _daifu_with_L6()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        _daifu_it_L9 = __daifu__.iter(items)
        for item in _daifu_it_L9:
            _daifu_t = None
            with lock:
                _daifu_t = _daifu_with_L10()
            if _daifu_t is not None:
                if _daifu_t == "break":
                    break
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L9
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
