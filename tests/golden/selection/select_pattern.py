# flags: --policy marked --select select_pattern.py::Trainer.*
class Trainer:
    def fit(self, data):
        with self.lock:
            self.data = data


def helper(x):
    return x
# output
# daifu 0.1.0: vaccinated copy of select_pattern.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Trainer:
    @__daifu__.cells
    def fit(self, data):
        # daifu: crash barrier for Trainer.fit() from select_pattern.py:2

        def _daifu_with_L3():
            # daifu cell: body of `with self.lock:` at select_pattern.py:3
            try:
                self.data = data
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        try:
            _daifu_t = None
            with self.lock:
                _daifu_t = _daifu_with_L3()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()


def helper(x):
    return x
