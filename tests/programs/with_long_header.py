"""A long with statement (several long items) that the formatter must split in a way every
supported Python parses."""
import contextlib


def many(first_manager_name, second_manager_name, third_manager_name, fourth_manager_name):
    with contextlib.nullcontext(first_manager_name) as first_value, contextlib.nullcontext(second_manager_name) as second_value, contextlib.nullcontext(third_manager_name) as third_value:
        for _ in range(1):
            result = [first_value, second_value, third_value, fourth_manager_name]
    return result


print(many("a", "b", "c", "d"))
