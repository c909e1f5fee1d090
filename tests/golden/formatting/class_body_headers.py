# flags: --policy marked --select "class_body_headers.py::A.outer.<locals>.inner" --select "class_body_headers.py::<script>"
import sys
class A :  #a
    '''doc'''
    if sys.version_info>=(3,) :  #v
        def outer(self,xs) :
            x='q'
            #inner
            def inner(ys):   #i
                for y in ys :  #loop
                    print( y )
            return inner
    else :
        pass
    try :
        z=1
    except  Exception :
        z=2
for i in range(2) :
    A().outer([1])([i])
# output
# daifu 0.1.0: vaccinated copy of class_body_headers.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of class_body_headers.py (from line 1), run in the module namespace
    global A, i, sys
    try:
        import sys

        class A :  #a
            '''doc'''
            if sys.version_info>=(3,) :  #v

                def outer(self,xs) :
                    x='q'

                    #inner
                    def inner(ys):   #i
                        # daifu: crash barrier for A.outer.<locals>.inner() from class_body_headers.py:8
                        try:
                            _daifu_it_L9 = __daifu__.iter(ys)
                            for y in _daifu_it_L9 :  #loop
                                print( y )
                            del _daifu_it_L9
                        except BaseException as _daifu_e:
                            _daifu_k = __daifu__.crash(_daifu_e)
                            if _daifu_k is None:
                                raise
                        else:
                            return None
                        return _daifu_k()

                    return inner

            else :
                pass
            try :
                z=1
            except  Exception :
                z=2

        _daifu_it_L18 = __daifu__.iter(range(2))
        for i in _daifu_it_L18 :
            A().outer([1])([i])
        del _daifu_it_L18
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
