import typing


@typing.overload
def double(x: int) -> int: ...
@typing.overload
def double(x: str) -> str: ...
def double(x):
    for _ in range(1):
        return x * 2
# output
# daifu 0.1.0: vaccinated copy of overload_stubs.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import typing


@typing.overload
def double(x: int) -> int: ...
@typing.overload
def double(x: str) -> str: ...
def double(x):
    # daifu: crash barrier for double() from overload_stubs.py:8
    try:
        _daifu_it_L9 = __daifu__.iter(range(1))
        for _ in _daifu_it_L9:
            return x * 2
        del _daifu_it_L9
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
