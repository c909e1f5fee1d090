class Child(Base):
    @classmethod
    def build(cls, n):
        for _ in range(n):
            with cls.lock:
                obj = super().build(n)
        return obj
# output
# daifu 0.1.0: vaccinated copy of classmethod_super.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Child(Base):
    @classmethod
    @__daifu__.cells
    def build(cls, n):
        # daifu: crash barrier for Child.build() from classmethod_super.py:3
        obj: ...

        def _daifu_cells():  # never called: gives the runtime these variables' cells
            return (__class__,)

        def _daifu_with_L5():
            # daifu cell: body of `with cls.lock:` at classmethod_super.py:5
            nonlocal obj
            try:
                obj = super(__class__, cls).build(n)
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        try:
            _daifu_it_L4 = __daifu__.iter(range(n))
            for _ in _daifu_it_L4:
                _daifu_t = None
                with cls.lock:
                    _daifu_t = _daifu_with_L5()
                if _daifu_t is not None:
                    return __daifu__.leave(_daifu_t)
            del _daifu_it_L4
            return obj
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
