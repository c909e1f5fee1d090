class Node:
    def kind(self):
        with self.lock:
            name = __class__.__name__
        return name
# output
# daifu 0.1.0: vaccinated copy of class_dunder_class.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Node:
    @__daifu__.cells
    def kind(self):
        # daifu: crash barrier for Node.kind() from class_dunder_class.py:2
        name: ...

        def _daifu_with_L3():
            # daifu cell: body of `with self.lock:` at class_dunder_class.py:3
            nonlocal name
            try:
                name = __class__.__name__
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
            return name
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
