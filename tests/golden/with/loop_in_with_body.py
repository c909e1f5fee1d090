import torch


def evaluate(model, batches):
    total = 0.0
    with torch.no_grad():
        for batch in batches:
            total += model(batch).sum().item()
    return total
# output
# daifu 0.1.0: vaccinated copy of loop_in_with_body.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import torch


@__daifu__.cells
def evaluate(model, batches):
    # daifu: crash barrier for evaluate() from loop_in_with_body.py:4
    batch: ...

    def _daifu_with_L6():
        # daifu cell: body of `with torch.no_grad():` at loop_in_with_body.py:6
        nonlocal batch, total
        try:
            _daifu_it_L7 = __daifu__.iter(batches)
            for batch in _daifu_it_L7:
                total += model(batch).sum().item()
            del _daifu_it_L7
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        total = 0.0
        _daifu_t = None
        with torch.no_grad():
            _daifu_t = _daifu_with_L6()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return total
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
