def outer(lock):
    total = 0

    def add(n):
        nonlocal total
        with lock:
            total += n

    add(1)
    return total
# output
# daifu 0.1.0: vaccinated copy of nonlocal_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def outer(lock):
    # daifu: crash barrier for outer() from nonlocal_in_cell.py:1

    def _daifu_cells():  # never called: gives the runtime these variables' cells
        return (lock, total)

    try:
        total = 0

        @__daifu__.cells
        def add(n):
            # daifu: crash barrier for outer.<locals>.add() from nonlocal_in_cell.py:4

            def _daifu_cells():  # never called: gives the runtime these variables' cells
                return (lock,)

            def _daifu_with_L6():
                # daifu cell: body of `with lock:` at nonlocal_in_cell.py:6
                nonlocal total
                try:
                    total += n
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            try:
                nonlocal total
                _daifu_t = None
                with lock:
                    _daifu_t = _daifu_with_L6()
                if _daifu_t is not None:
                    return __daifu__.leave(_daifu_t)
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        add(1)
        return total
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
