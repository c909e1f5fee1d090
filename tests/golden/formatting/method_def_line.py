class Trainer:
    def fit(self, model, loader, optimizer, scheduler=None, epochs=1, log_every=10, device="cpu"):
        for batch in loader:  # one batch
            x=batch ;y = 2
            if x=='a' :  #odd
                print(x,y)
# output
# daifu 0.1.0: vaccinated copy of method_def_line.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


class Trainer:
    def fit(self, model, loader, optimizer, scheduler=None, epochs=1, log_every=10, device="cpu"):
        # daifu: crash barrier for Trainer.fit() from method_def_line.py:2
        try:
            _daifu_it_L3 = __daifu__.iter(loader)
            for batch in _daifu_it_L3:  # one batch
                x=batch ;y = 2
                if x=='a' :  #odd
                    print(x,y)
            del _daifu_it_L3
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()
