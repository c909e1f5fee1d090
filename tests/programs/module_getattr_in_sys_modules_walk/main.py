"""Walking sys.modules while asking hasattr of every module (as CPython's test runner does at
start-up): the first exception crossing a vaccinated function must not import anything, or the
walk fails with "dictionary changed size during iteration"."""
import sys

import lazy

packages = 0
for module in sys.modules.values():
    if hasattr(module, "__path__"):
        packages += 1
print("walked; lazy has __path__:", hasattr(lazy, "__path__"), "version:", lazy.version)
