#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""UTF-8 with a byte-order mark, a shebang and a coding line: été."""
import contextlib


def greet(names):
    out = []
    for n in names:
        with contextlib.nullcontext():
            out.append(f"héllo {n} ✓")
    return out


for line in greet(["a", "ø"]):
    print(line)
print(__doc__)
