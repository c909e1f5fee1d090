def message(lock, n):
    with lock:
        text = ("first "
                "second "
                f"{n}")
        path = "a" \
            "b"
    return text, path
# output
# daifu 0.1.0: vaccinated copy of implicit_concatenation.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def message(lock, n):
    # daifu: crash barrier for message() from implicit_concatenation.py:1
    path: ...
    text: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at implicit_concatenation.py:2
        nonlocal path, text
        try:
            text = ("first "
                    "second "
                    f"{n}")
            path = "a" \
                "b"
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
        return text, path
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
