import contextlib


def evaluate(model, loader, metrics):
    for batch in loader:
        with contextlib.nullcontext():
            if batch is None:
                return model.summarise(metrics, loader.dataset, include_loss=True, v=0)
            if batch == 0:
                return metrics.first, metrics.second, metrics.third_long, metrics.fourth
    return None
# output
# daifu 0.1.0: vaccinated copy of long_return_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import contextlib


@__daifu__.cells
def evaluate(model, loader, metrics):
    # daifu: crash barrier for evaluate() from long_return_in_cell.py:4

    def _daifu_with_L6():
        # daifu cell: body of `with contextlib.nullcontext():` at long_return_in_cell.py:6
        try:
            if batch is None:
                return (
                    model.summarise(metrics, loader.dataset, include_loss=True, v=0),
                )
            if batch == 0:
                return (
                    (metrics.first, metrics.second, metrics.third_long, metrics.fourth),
                )
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_it_L5 = __daifu__.iter(loader)
        for batch in _daifu_it_L5:
            _daifu_t = None
            with contextlib.nullcontext():
                _daifu_t = _daifu_with_L6()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        del _daifu_it_L5
        return None
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
