"""A try/except in a class body handles an exception raised by a vaccinated function."""


def load_setting(name):
    for source in ("env",):
        raise LookupError(f"{name} not in {source}")


class Settings:
    try:
        batch_size = load_setting("batch_size")
    except LookupError as exc:
        batch_size = 32
        reason = str(exc)


print(Settings.batch_size, Settings.reason)
