# requires-python: 3.10
def dispatch(lock, command):
    with lock:
        match command.split():
            case ["go", direction] if direction in "nsew":
                result = direction
            case ["quit"]:
                return "quit"
            case _:
                result = "?"
    return result
# output
# daifu 0.1.0: vaccinated copy of match_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.cells
def dispatch(lock, command):
    # daifu: crash barrier for dispatch() from match_in_cell.py:1
    direction: ...
    result: ...

    def _daifu_with_L2():
        # daifu cell: body of `with lock:` at match_in_cell.py:2
        nonlocal direction, result
        try:
            match command.split():
                case ["go", direction] if direction in "nsew":
                    result = direction
                case ["quit"]:
                    return ("quit",)
                case _:
                    result = "?"
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
        return result
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
