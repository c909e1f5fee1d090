"""A project: a package with relative imports, `from ... import *` with __all__, a circular
import between modules with script-level loops, module __getattr__, and `__main__` code."""
import sys

import pkg
from pkg import *
from pkg.models import Model, registry
from pkg import lazy

print(sorted(k for k in dir() if not k.startswith("_")))
print(pkg.VERSION, exported(), Model("m").run(3), registry)
print(lazy.dynamic_value, lazy.answer)
try:
    lazy.missing_name
except AttributeError as exc:
    print("AttributeError", exc)
print(pkg.models.__name__, pkg.models.partner_seen, sys.modules["pkg.partner"].seen_from_models)


def main(argv):
    for arg in argv:
        print("arg", arg)
    return 0


if __name__ == "__main__":
    for round_ in range(2):
        print("main round", round_)
    sys.exit(main(["a", "b"]))
