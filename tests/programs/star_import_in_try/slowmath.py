def square(x):
    for _ in range(1):
        return x * x
