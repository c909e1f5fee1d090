config = {}
exec(open("config.py").read())
for key in dir():
    print(key, eval(key))
print(sorted(locals()), vars().keys())
# output
# daifu 0.1.0: vaccinated copy of namespace_calls.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of namespace_calls.py (from line 1), run in the module namespace
    global config, key
    try:
        config = {}
        exec(open("config.py").read(), globals())
        _daifu_it_L3 = __daifu__.iter(sorted(globals()))
        for key in _daifu_it_L3:
            print(key, eval(key, globals()))
        del _daifu_it_L3
        print(sorted(globals()), globals().keys())
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
