# requires-python: 3.10
"""A mapping pattern with `**rest` binds `rest` (the transpiler must not crash on it)."""


def split(config):
    for _ in range(1):
        match config:
            case {"name": name, **rest}:
                return name, sorted(rest)
    return None


print(split({"name": "run", "lr": 0.1, "epochs": 3}))
