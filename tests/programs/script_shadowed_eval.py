"""A training script that defines its own `eval` (and `dir`) and calls it at script level
with one argument: the builtins' namespace rewriting must not touch user functions."""


def eval(model):
    return f"evaluated {model}"


def dir():
    return ["my", "dir"]


for epoch in range(2):
    print(epoch, eval("net"))
print(dir())
