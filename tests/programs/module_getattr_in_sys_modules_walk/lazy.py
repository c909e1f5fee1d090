"""A module with a PEP 562 ``__getattr__`` (as urllib.parse has): ``hasattr`` on it raises
AttributeError inside this module's vaccinated function, and hasattr handles it in C."""


def __getattr__(name):
    for known in ("version",):
        if name == known:
            return "1.0"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
