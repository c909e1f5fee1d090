"""A loop's iterator is released as soon as the loop statement ends, however it ends: an
exception leaving the loop (handled in the same function), `continue`/`break` in the loop's
else clause, `return` from a with body inside the loop, and the end of a loop nested in an
outer loop's else clause."""
import contextlib


def records(name, n=3):
    try:
        for i in range(n):
            yield i
    finally:
        print(f"{name}: generator closed")


def exception_leaves_loop():
    try:
        for value in records("exception"):
            if value == 1:
                raise ValueError(value)
    except ValueError:
        print("handler runs")
    print("after try")


def continue_in_else():
    for row in range(2):
        for value in records(f"row {row}", 1):
            pass
        else:
            print(f"else of row {row}")
            continue
    print("after outer loop")


def break_in_with_cell():
    for value in records("with cell"):
        with contextlib.nullcontext():
            if value == 1:
                break
    print("after loop with cell")


def loop_in_cell():
    with contextlib.nullcontext():
        for value in records("inside cell"):
            if value == 0:
                break
        print("still inside the with body")
    print("after the with")


exception_leaves_loop()
continue_in_else()
break_in_with_cell()
loop_in_cell()
