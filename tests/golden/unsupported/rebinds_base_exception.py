class BaseException(Exception):
    """A program's own class named like the builtin: every barrier would catch this class
    only, so the module is left as it was."""


def train(batches):
    for batch in batches:
        print(batch)
