class Account:
    def deposit(self, amount):
        with self.__lock:
            __old = self.__balance
            self.__balance = __old + amount
        return self.__balance
# output
# daifu 0.1.0: vaccinated copy of private_names.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Account:
    @__daifu__.cells
    def deposit(self, amount):
        # daifu: crash barrier for Account.deposit() from private_names.py:2
        __old: ...

        def _daifu_with_L3():
            # daifu cell: body of `with self.__lock:` at private_names.py:3
            nonlocal __old
            try:
                __old = self.__balance
                self.__balance = __old + amount
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        try:
            _daifu_t = None
            with self.__lock:
                _daifu_t = _daifu_with_L3()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
            return self.__balance
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
