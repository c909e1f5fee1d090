def commented(lock):
    # before the with
    with lock:  # trailing on with
        # first in body
        x = 1  # trailing on statement
        # last in body
    # after the with
    return x  # trailing on return
    # closing comment of the function
# output
# daifu 0.1.0: vaccinated copy of with_body_comments.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def commented(lock):
    # daifu: crash barrier for commented() from with_body_comments.py:1
    x: ...

    def _daifu_with_L3():
        # daifu cell: body of `with lock:` at with_body_comments.py:3
        nonlocal x
        try:
            # first in body
            x = 1  # trailing on statement
            # last in body
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        # before the with
        _daifu_t = None
        with lock:  # trailing on with
            _daifu_t = _daifu_with_L3()
        if _daifu_t is not None:
            return __daifu__.leave(_daifu_t)
        # after the with
        return x  # trailing on return
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
    # closing comment of the function
