def targets(manager, obj, slots):
    with manager as (first, second):
        print(first, second)
    with manager as obj.attribute, manager as slots[0]:
        print(obj.attribute, slots)
# output
# daifu 0.1.0: vaccinated copy of targets.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def targets(manager, obj, slots):
    # daifu: crash barrier for targets() from targets.py:1

    def _daifu_with_L2():
        # daifu cell: body of `with manager as (first, second):` at targets.py:2
        try:
            print(first, second)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    def _daifu_with_L4():
        # daifu cell: body of `with manager as obj.attribute, manager as slots[0]:` at targets.py:4
        try:
            print(obj.attribute, slots)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        _daifu_t = None
        with manager as (first, second):
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        _daifu_t = None
        with manager as obj.attribute, manager as slots[0]:
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
