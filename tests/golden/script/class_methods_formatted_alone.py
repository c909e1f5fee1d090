# A script module: its vaccinated methods are black-formatted on their own, for the column
# they end up at, and held out of the script's black run (the long loop line must wrap
# exactly as black would wrap it in place).
import torch


class Trainer:
    """Keeps state."""

    def __init__(self, steps):
        self.steps = steps

    def fit(
        self,
        data,
        some_rather_long_argument_name=None,
        another_quite_long_argument_name=None,
    ):
        total = 0
        for item in data:
            total += (
                item * self.steps
                + len(str(some_rather_long_argument_name))
                + len(str(another_quite_long_argument_name))
            )
        return total

    def plain(self):
        return self.steps


def helper(values):
    out = []
    for v in values:
        out.append(v)  # keep
    return out


if __name__ == "__main__":
    trainer = Trainer(3)
    for epoch in range(2):
        print(trainer.fit([1, 2, 3]), helper([epoch]))
# output
# daifu 0.1.0: vaccinated copy of class_methods_formatted_alone.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


# A script module: its vaccinated methods are black-formatted on their own, for the column
# they end up at, and held out of the script's black run (the long loop line must wrap
# exactly as black would wrap it in place).
@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of class_methods_formatted_alone.py (from line 4), run in the module namespace
    global Trainer, epoch, helper, torch, trainer
    try:
        import torch

        class Trainer:
            """Keeps state."""

            def __init__(self, steps):
                # daifu: crash barrier for Trainer.__init__() from class_methods_formatted_alone.py:10
                try:
                    self.steps = steps
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            def fit(
                self,
                data,
                some_rather_long_argument_name=None,
                another_quite_long_argument_name=None,
            ):
                # daifu: crash barrier for Trainer.fit() from class_methods_formatted_alone.py:13
                try:
                    total = 0
                    _daifu_it_L20 = __daifu__.iter(data)
                    for item in _daifu_it_L20:
                        total += (
                            item * self.steps
                            + len(str(some_rather_long_argument_name))
                            + len(str(another_quite_long_argument_name))
                        )
                    del _daifu_it_L20
                    return total
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            def plain(self):
                # daifu: crash barrier for Trainer.plain() from class_methods_formatted_alone.py:28
                try:
                    return self.steps
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        def helper(values):
            # daifu: crash barrier for helper() from class_methods_formatted_alone.py:32
            try:
                out = []
                _daifu_it_L34 = __daifu__.iter(values)
                for v in _daifu_it_L34:
                    out.append(v)  # keep
                del _daifu_it_L34
                return out
            except BaseException as _daifu_e:
                _daifu_k = __daifu__.crash(_daifu_e)
                if _daifu_k is None:
                    raise
            else:
                return None
            return _daifu_k()

        if __name__ == "__main__":
            trainer = Trainer(3)
            _daifu_it_L41 = __daifu__.iter(range(2))
            for epoch in _daifu_it_L41:
                print(trainer.fit([1, 2, 3]), helper([epoch]))
            del _daifu_it_L41
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
