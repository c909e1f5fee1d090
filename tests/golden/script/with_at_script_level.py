import torch

model = torch.nn.Linear(2, 2)
with torch.no_grad():
    for p in model.parameters():
        p.zero_()
        if p.dim() > 1:
            break
# output
# daifu 0.1.0: vaccinated copy of with_at_script_level.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of with_at_script_level.py (from line 1), run in the module namespace
    global model, p, torch

    def _daifu_with_L4():
        # daifu cell: body of `with torch.no_grad():` at with_at_script_level.py:4
        global p
        try:
            _daifu_it_L5 = __daifu__.iter(model.parameters())
            for p in _daifu_it_L5:
                p.zero_()
                if p.dim() > 1:
                    break
            del _daifu_it_L5
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        import torch

        model = torch.nn.Linear(2, 2)
        _daifu_t = None
        with torch.no_grad():
            _daifu_t = _daifu_with_L4()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
