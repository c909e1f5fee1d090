"""A name bound in a cell (the finally of a try) and also inside a nested function: the nested
function's binding is its own, so the outer function still declares the name for its cell
(as in shutil.rmtree of Python 3.13)."""


def outer(stack):
    if stack:

        def helper(*args):
            func, path = args
            return func

    class Local:
        func = "class attribute"

    try:
        pass
    finally:
        while stack:
            func = stack.pop()
    return func, Local.func


print(outer([1, 2]))
