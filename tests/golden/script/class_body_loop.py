class Table:
    rows = []
    for i in range(3):
        rows.append(i)


for row in Table.rows:
    print(row)
# output
# daifu 0.1.0: vaccinated copy of class_body_loop.py; fixes saved here reach a waiting run
__import__("_daifu_shim").vaccinated_module(__name__)


@__daifu__.run_script
def __daifu_script__():
    # daifu: script-level code of class_body_loop.py (from line 1), run in the module namespace
    global Table, row
    try:

        class Table:
            rows = []
            for i in range(3):
                rows.append(i)

        _daifu_it_L7 = __daifu__.iter(Table.rows)
        for row in _daifu_it_L7:
            print(row)
        del _daifu_it_L7
    except BaseException as _daifu_e:
        _daifu_k = __daifu__.crash(_daifu_e)
        if _daifu_k is None:
            raise
    else:
        return None
    return _daifu_k()


del __daifu_script__
