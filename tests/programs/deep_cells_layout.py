"""Statements of deeply nested with bodies move into cells at a shallower depth: backslash
continuation lines with little indentation, multi-line strings and comments keep working."""
import contextlib


def deep(n):
    out = []
    for i in range(n):
        if i >= 0:
            while True:
                with contextlib.nullcontext():
                    total = i + \
1
                    text = """line one
no indent
            deep indent"""
                    items = [i,
  i + 1,
        i + 2]
                    out.append((total, text, items))
                break
    return out


print(deep(2))
for k in range(1):
    if k == 0:
        with contextlib.nullcontext():
            value = k + \
100
            s = '''a
b'''
print(value, s)
