answer = 42
for _ in range(1):
    pass


def __getattr__(name):
    for prefix in ("dynamic_",):
        if name.startswith(prefix):
            return f"computed {name}"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
