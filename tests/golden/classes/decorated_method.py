import functools


class Trainer:
    @functools.lru_cache(maxsize=None)  # cached
    @staticmethod
    def schedule(step):
        for _ in range(step):
            pass
        return step

    @property
    def ready(self):
        """Whether the trainer is ready."""
        return all(p for p in self.parts)
# output
# daifu 0.1.0: vaccinated copy of decorated_method.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)
import functools


class Trainer:
    @functools.lru_cache(maxsize=None)  # cached
    @staticmethod
    def schedule(step):
        # daifu: crash barrier for Trainer.schedule() from decorated_method.py:7
        try:
            _daifu_it_L8 = __daifu__.iter(range(step))
            for _ in _daifu_it_L8:
                pass
            del _daifu_it_L8
            return step
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    @property
    def ready(self):
        """Whether the trainer is ready."""
        # daifu: crash barrier for Trainer.ready() from decorated_method.py:13
        try:
            return all(p for p in self.parts)
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
