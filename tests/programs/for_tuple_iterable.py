"""A for loop over a tuple written without parentheses: the hoisted iter() call must get one
argument (the tuple), not the two-argument form iter(callable, sentinel)."""


def attributes(node, other):
    seen = []
    for attr in "lineno", "col_offset":
        seen.append(getattr(node, attr, None))
    for item in (node), (other):
        seen.append(type(item).__name__)
    for item in *seen[:1], other:
        seen.append(item)
    for item in other,:
        seen.append(item)
    return seen


class Node:
    lineno = 3
    col_offset = 7


print(attributes(Node(), "x"))
