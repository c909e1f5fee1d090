import sys

#top comment
class Model :  #model
    'doc'
    kind='a'
    #between
    def run(self,xs):
        for x in xs:
            print(x,self.kind)
    if sys.version_info>=(3,):
        flag='b'
    def other(self): return 'c'


for i in range(2):
    counts: dict[str,int] = {'a':1}
    Model().run([i])
# output
# daifu 0.1.0: vaccinated copy of class_around_method.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of class_around_method.py (from line 1), run in the module namespace
    global Model, counts, i, sys
    try:
        import sys

        #top comment
        class Model :  #model
            'doc'
            kind='a'

            #between
            def run(self,xs):
                # daifu: crash barrier for Model.run() from class_around_method.py:8
                try:
                    _daifu_it_L9 = __daifu__.iter(xs)
                    for x in _daifu_it_L9:
                        print(x,self.kind)
                    del _daifu_it_L9
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

            if sys.version_info>=(3,):
                flag='b'

            def other(self):
                # daifu: crash barrier for Model.other() from class_around_method.py:13
                try:
                    return 'c'
                except BaseException as _daifu_e:
                    _daifu_k = __daifu__.crash(_daifu_e)
                    if _daifu_k is None:
                        raise
                else:
                    return None
                return _daifu_k()

        _daifu_it_L16 = __daifu__.iter(range(2))
        for i in _daifu_it_L16:
            counts = {'a':1}
            __annotations__['counts'] = dict[str,int]
            Model().run([i])
        del _daifu_it_L16
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
