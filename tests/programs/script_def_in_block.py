"""Functions defined inside compound statements at script level (if/try/for/with), in a
module whose script-level code is vaccinated too."""
import contextlib
import sys

try:
    from json import loads as parse
except ImportError:
    def parse(text):
        return text

if sys.version_info >= (3,):
    def platform():
        for _ in range(1):
            return "py3"
else:
    def platform():
        return "py2"

for i in range(2):
    with contextlib.nullcontext():
        def helper(k=i):
            for _ in range(1):
                return k * 10
    print(helper(), platform(), parse("[1]"))
