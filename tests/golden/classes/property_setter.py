class Temperature:
    @property
    def celsius(self):
        return self._c

    @celsius.setter
    def celsius(self, value):
        for _ in range(1):
            self._c = float(value)
# output
# daifu 0.1.0: vaccinated copy of property_setter.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Temperature:
    @property
    def celsius(self):
        # daifu: crash barrier for Temperature.celsius() from property_setter.py:3
        try:
            return self._c
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    @celsius.setter
    def celsius(self, value):
        # daifu: crash barrier for Temperature.celsius() from property_setter.py:7
        try:
            _daifu_it_L8 = __daifu__.iter(range(1))
            for _ in _daifu_it_L8:
                self._c = float(value)
            del _daifu_it_L8
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
