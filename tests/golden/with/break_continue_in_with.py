import threading

lock = threading.Lock()


def drain(queue):
    while queue:
        with lock:
            item = queue.pop()
            if item is None:
                break
            if item < 0:
                continue
        print(item)
# output
# daifu 0.1.0: vaccinated copy of break_continue_in_with.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import threading

lock = threading.Lock()


@__daifu__.cells
def drain(queue):
    # daifu: crash barrier for drain() from break_continue_in_with.py:6
    item: ...

    def _daifu_with_L8():
        # daifu cell: body of `with lock:` at break_continue_in_with.py:8
        nonlocal item
        try:
            item = queue.pop()
            if item is None:
                return "break"
            if item < 0:
                return "continue"
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        while queue:
            _daifu_t = None
            with lock:
                _daifu_t = _daifu_with_L8()
            if _daifu_t is not None:
                if _daifu_t == "break":
                    break
                if _daifu_t == "continue":
                    continue
                return __daifu__.leave(_daifu_t)
            print(item)
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
