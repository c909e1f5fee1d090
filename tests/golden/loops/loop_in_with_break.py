import contextlib


def first_negative(batches):
    for batch in batches:
        with contextlib.nullcontext():
            if not batch:
                continue
            if batch[0] < 0:
                break
    return batch
# output
# daifu 0.1.0: vaccinated copy of loop_in_with_break.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import contextlib


@__daifu__.cells
def first_negative(batches):
    # daifu: crash barrier for first_negative() from loop_in_with_break.py:4

    def _daifu_with_L6():
        # daifu cell: body of `with contextlib.nullcontext():` at loop_in_with_break.py:6
        try:
            if not batch:
                return "continue"
            if batch[0] < 0:
                return "break"
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_it_L5 = __daifu__.iter(batches)
        for batch in _daifu_it_L5:
            _daifu_t = None
            with contextlib.nullcontext():
                _daifu_t = _daifu_with_L6()
            if _daifu_t is not None:
                if _daifu_t == "break":
                    break
                if _daifu_t == "continue":
                    continue
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L5
        return batch
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
