def train(model, loader):
    for batch_index, (inputs, targets) in enumerate(zip(loader.dataset.inputs, loader.dataset.targets)):
        print(batch_index,inputs,targets)
    for x in enumerate(zip(loader.dataset.inputs, loader.dataset.targets, loader.dataset.weights)):
        print(x)
# output
# daifu 0.1.0: vaccinated copy of long_iterable.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def train(model, loader):
    # daifu: crash barrier for train() from long_iterable.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(
            enumerate(zip(loader.dataset.inputs, loader.dataset.targets))
        )
        for batch_index, (inputs, targets) in _daifu_it_L2:
            print(batch_index,inputs,targets)
        del _daifu_it_L2
        _daifu_it_L4 = __daifu__.iter(
            enumerate(zip(loader.dataset.inputs, loader.dataset.targets, loader.dataset.weights))
        )
        for x in _daifu_it_L4:
            print(x)
        del _daifu_it_L4
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
