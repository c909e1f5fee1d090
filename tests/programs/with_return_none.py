"""`return None` (explicit) inside a with body and inside a try with finally."""
import contextlib


def lookup(table, key):
    with contextlib.nullcontext():
        if key not in table:
            return None
        value = table[key]
    return value


def guarded(flag):
    try:
        if flag:
            return None
        return "value"
    finally:
        print("finally")


print(lookup({"a": 1}, "a"), lookup({}, "b"), guarded(True), guarded(False))
