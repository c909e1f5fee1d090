def factory(lock):
    with lock:
        class Local:
            def method(self):
                for i in range(2):
                    print(i)

    return Local
# output
# daifu 0.1.0: vaccinated copy of nested_class_in_function.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def factory(lock):
    # daifu: crash barrier for factory() from nested_class_in_function.py:1
    Local: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at nested_class_in_function.py:2
        nonlocal Local
        try:

            class Local:
                def method(self):
                    # daifu: crash barrier for factory.<locals>.Local.method() from nested_class_in_function.py:4
                    try:
                        _daifu_it_L5 = __daifu__.iter(range(2))
                        for i in _daifu_it_L5:
                            print(i)
                        del _daifu_it_L5
                    except BaseException as _daifu_e:
                        _daifu_k = __daifu__.crash(_daifu_e)
                        if _daifu_k is None:
                            raise
                    else:
                        return None
                    return _daifu_k()

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

        return Local
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
