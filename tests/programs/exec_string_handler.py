"""A handler in code run by exec() from a string (no source file) catches an exception
raised by a vaccinated function."""


def risky(n):
    for _ in range(1):
        if n > 1:
            raise ValueError(f"too big: {n}")
    return n


exec("try:\n    risky(5)\nexcept ValueError as exc:\n    print('handled in exec:', exc)")
print("done")
