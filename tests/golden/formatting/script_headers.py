import sys

mode = sys.argv[-1]
#begin: black would write "# begin"
for step in range(3):
    if mode == 'train' or step>1:  #train or late
        print('step', step)
    elif mode=='eval':
        pass
    with open(__file__) as fh :
        fh.read( 1 )
    try :
        x=1; y=2 # one space before this comment
    except (ValueError,KeyError) as exc:  # two
        raise
    else :
        pass
    while  False :
        break
# output
# daifu 0.1.0: vaccinated copy of script_headers.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of script_headers.py (from line 1), run in the module namespace
    global exc, fh, mode, step, sys, x, y

    def _daifu_with_L10():
        # daifu cell: body of `with open(__file__) as fh :` at script_headers.py:10
        try:
            fh.read( 1 )
        except BaseException as _daifu_e:
            _daifu_k = __daifu__.crash(_daifu_e)
            if _daifu_k is None:
                raise
        else:
            return None
        return _daifu_k()

    try:
        import sys

        mode = sys.argv[-1]
        #begin: black would write "# begin"
        _daifu_it_L5 = __daifu__.iter(range(3))
        for step in _daifu_it_L5:
            if mode == 'train' or step>1:  #train or late
                print('step', step)
            elif mode=='eval':
                pass
            _daifu_t = None
            with open(__file__) as fh :
                _daifu_t = _daifu_with_L10()
            if _daifu_t is not None:
                return __daifu__.leave(_daifu_t)
            try :
                x=1; y=2 # one space before this comment
            except (ValueError,KeyError) as exc:  # two
                raise
            else :
                pass
            while  False :
                break
        del _daifu_it_L5
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
