# requires-python: 3.10
def run(commands):
    for command in commands:
        match command:
            case "stop":
                break
            case "skip":
                continue
            case str(text):
                print(text)
# output
# daifu 0.1.0: vaccinated copy of match_break_in_loop.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def run(commands):
    # daifu: crash barrier for run() from match_break_in_loop.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(commands)
        for command in _daifu_it_L2:
            match command:
                case "stop":
                    break
                case "skip":
                    continue
                case str(text):
                    print(text)
        del _daifu_it_L2
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
