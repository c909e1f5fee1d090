def build(lock):
    with lock:
        config = dict(
            lr=0.1,  # learning rate
            # a whole-line comment inside the call
            steps=10,
        )
    return config
# output
# daifu 0.1.0: vaccinated copy of inside_expressions.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def build(lock):
    # daifu: crash barrier for build() from inside_expressions.py:1
    config: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at inside_expressions.py:2
        nonlocal config
        try:
            config = dict(
                lr=0.1,  # learning rate
                # a whole-line comment inside the call
                steps=10,
            )
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
            _daifu_t = _daifu_with_L2()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        return config
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
