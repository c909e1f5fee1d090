"""Nonlocal and global declarations reached through several cell levels: a nested function
whose with body rebinds an outer variable, a global rebound in a finally inside a with, and
names first bound in a nested with body read after both withs."""
import contextlib

state = "initial"


def outer():
    count = 0
    history = []

    def record(tag):
        nonlocal count
        with contextlib.nullcontext():
            try:
                count += 1
                history.append(tag)
            finally:
                with contextlib.nullcontext():
                    global state
                    state = f"{tag}:{count}"

    for tag in "abc":
        record(tag)
    with contextlib.nullcontext():
        with contextlib.nullcontext():
            deep = [count, state]
        deeper = deep + ["x"]
    return count, history, deep, deeper


def rebinding_parameter(value):
    with contextlib.nullcontext():
        value = value * 2
        helper = lambda: value
    value += 1
    return value, helper()


print(outer(), state)
print(rebinding_parameter(5))
