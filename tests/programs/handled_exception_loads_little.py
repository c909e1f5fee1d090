"""A handled exception crossing a vaccinated function loads only the part of daifu's runtime
that decides about it: the crash session (report, resume, alignment, journal: about half of
the runtime's import time) stays unloaded until something crashes. The original has no
runtime at all, so both print the same."""
import sys


def lookup(table, key):
    for candidate in (key, key.lower()):
        if candidate in table:
            return table[candidate]
    raise KeyError(key)


def find(table, keys):
    found = []
    for key in keys:
        try:
            found.append(lookup(table, key))
        except KeyError:
            found.append(None)
    return found


print(find({"a": 1}, ["A", "b"]))
print("crash session loaded:", "_daifu_shim.session" in sys.modules)
