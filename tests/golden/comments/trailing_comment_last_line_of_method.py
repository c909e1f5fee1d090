def outer(n):
    class T:
        def a(self, x):
            for i in range(x):
                pass
            return x  # on the last line of a vaccinated method

        def b(self):
            return 1  # on the last line of the class

    for k in range(n):
        T().a(k)
    return n
# output
# daifu 0.1.0: vaccinated copy of trailing_comment_last_line_of_method.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def outer(n):
    # daifu: crash barrier for outer() from trailing_comment_last_line_of_method.py:1
    try:

        class T:
            def a(self, x):
                # daifu: crash barrier for outer.<locals>.T.a() from trailing_comment_last_line_of_method.py:3
                try:
                    _daifu_it_L4 = __daifu__.iter(range(x))
                    for i in _daifu_it_L4:
                        pass
                    del _daifu_it_L4
                    return x  # on the last line of a vaccinated method
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            def b(self):
                # daifu: crash barrier for outer.<locals>.T.b() from trailing_comment_last_line_of_method.py:8
                try:
                    return 1  # on the last line of the class
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        _daifu_it_L11 = __daifu__.iter(range(n))
        for k in _daifu_it_L11:
            T().a(k)
        del _daifu_it_L11
        return n
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
