class Child(Base):
    def step(self, batch):
        with self.lock:
            out = super().step(batch)
        return out
# output
# daifu 0.1.0: vaccinated copy of super_in_cell.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Child(Base):
    @__daifu__.cells
    def step(self, batch):
        # daifu: crash barrier for Child.step() from super_in_cell.py:2
        out: ...

        def _daifu_cells():  # never called: gives the runtime these variables' cells
            return (__class__,)

        def _daifu_with_L3():
            # daifu cell: body of `with self.lock:` at super_in_cell.py:3
            nonlocal out
            try:
                out = super(__class__, self).step(batch)
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
            return out
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
