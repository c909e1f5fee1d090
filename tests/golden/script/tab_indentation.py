class Acc:
	def add(self, values):
		for v in values:
			print(v)


for i in range(2):
	print(i)
# output
# daifu 0.1.0: vaccinated copy of tab_indentation.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of tab_indentation.py (from line 1), run in the module namespace
    global Acc, i
    try:

        class Acc:
            def add(self, values):
                # daifu: crash barrier for Acc.add() from tab_indentation.py:2
                try:
                    _daifu_it_L3 = __daifu__.iter(values)
                    for v in _daifu_it_L3:
                        print(v)
                    del _daifu_it_L3
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        _daifu_it_L7 = __daifu__.iter(range(2))
        for i in _daifu_it_L7:
            print(i)
        del _daifu_it_L7
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
