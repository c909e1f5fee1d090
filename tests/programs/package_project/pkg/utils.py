__all__ = ["exported"]
_hidden = []
for i in range(3):
    _hidden.append(i)


def exported():
    out = []
    for value in _hidden:
        out.append(value * 2)
    return out


def not_exported():
    return None
