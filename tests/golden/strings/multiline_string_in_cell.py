def report(lock, name):
    with lock:
        text = """Report for
    an indented line
no indent"""
        query = f"""
            SELECT * FROM {name}
        """
    return text, query
# output
# daifu 0.1.0: vaccinated copy of multiline_string_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def report(lock, name):
    # daifu: crash barrier for report() from multiline_string_in_cell.py:1
    query: ...
    text: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at multiline_string_in_cell.py:2
        nonlocal query, text
        try:
            text = """Report for
    an indented line
no indent"""
            query = f"""
            SELECT * FROM {name}
        """
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
        return text, query
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
