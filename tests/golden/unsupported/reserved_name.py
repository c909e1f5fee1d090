def uses_reserved(items):
    for _daifu_item in items:
        print(_daifu_item)
