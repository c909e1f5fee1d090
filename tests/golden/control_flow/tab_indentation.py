class Worker:
	def run(self, lock, xs):
		for x in xs:
			with lock:
				if x:
					continue
				print(x)
# output
# daifu 0.1.0: vaccinated copy of tab_indentation.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Worker:
	@__daifu__.cells
	def run(self, lock, xs):
	    # daifu: crash barrier for Worker.run() from tab_indentation.py:2

	    def _daifu_with_L4():
	        # daifu cell: body of `with lock:` at tab_indentation.py:4
	        try:
	            if x:
	                return "continue"
	            print(x)
	        except BaseException as _daifu_e:
	            _daifu_k = __daifu__.crash(_daifu_e)
	            if _daifu_k is None:
	                raise
	        else:
	            return None
	        return _daifu_k()

	    try:
	        _daifu_it_L3 = __daifu__.iter(xs)
	        for x in _daifu_it_L3:
	            _daifu_t = None
	            with lock:
	                _daifu_t = _daifu_with_L4()
	            if _daifu_t is not None:
	                if _daifu_t == "continue":
	                    continue
	                return __daifu__.leave(_daifu_t)
	        del _daifu_it_L3
	    except BaseException as _daifu_e:
	        _daifu_k = __daifu__.crash(_daifu_e)
	        if _daifu_k is None:
	            raise
	    else:
	        return None
	    return _daifu_k()
