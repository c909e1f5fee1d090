def debug(a, b):
    for _ in range(1):
        print(locals())
