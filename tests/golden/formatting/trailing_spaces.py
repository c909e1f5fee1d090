def f(xs):   
    for x in xs:  
        if x:    
            print(x)   
        # comment with trailing spaces   
    return xs 
# output
# daifu 0.1.0: vaccinated copy of trailing_spaces.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


def f(xs):   
    # daifu: crash barrier for f() from trailing_spaces.py:1
    try:
        _daifu_it_L2 = __daifu__.iter(xs)
        for x in _daifu_it_L2:  
            if x:    
                print(x)   
            # comment with trailing spaces   
        del _daifu_it_L2
        return xs 
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()
