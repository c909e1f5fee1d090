#!/usr/bin/env python
"""Module docstring."""
from __future__ import annotations

total: int = 0
for i in range(3):
    total += i
