"""While a program has replaced builtins.__import__ (as unittest's own tests do with
mock.patch), a handled exception crossing vaccinated functions must not import anything:
CPython's test_discovery registered its fake module under every name imported meanwhile, and
the `from collections import deque` inside ast.walk, run by daifu's runtime, made
sys.modules['collections'] that fake."""
import builtins


def to_int(part):
    for char in part:
        if not char.isdigit():
            raise ValueError(part)
    return int(part)


def to_float(part):  # another function: daifu has not decided about its exceptions yet
    for char in part:
        if char not in "0123456789.":
            raise ValueError(part)
    return float(part)


def parse(text, convert):
    values = []
    for part in text.split(","):
        try:
            values.append(convert(part))
        except ValueError:
            values.append(None)
    return values


print(parse("1,x", to_int))  # the first exception loads daifu's runtime before the patch

real_import = builtins.__import__
imported = []


def recording_import(name, *args, **kwargs):
    imported.append(name)
    return real_import(name, *args, **kwargs)


builtins.__import__ = recording_import
try:
    print(parse("2.5,y,3", to_float))
finally:
    builtins.__import__ = real_import
print("imports while patched:", imported)
