"""A handler that re-raises only sometimes (`if ...: return default` then a bare `raise`)
handles the exception when its condition holds: nothing crashes."""


def parse_int(text):
    for _ in range(1):
        return int(text)


def parse_or_default(text, default):
    try:
        return parse_int(text)
    except ValueError:
        if default is not None:
            return default
        raise


print(parse_or_default("12", 0), parse_or_default("x", -1))
