"""A project module named like a standard-library module the runtime needs: handled exceptions
crossing vaccinated functions must still behave as in the original (the runtime cannot load,
so daifu steps aside and says so on stderr), and an unhandled one ends the program as before."""
import ast


def lookup(table, keys):
    found = []
    for key in keys:
        try:
            found.append(table[key])
        except KeyError:
            found.append(None)
    return found


def first_word(text):
    for word in ast.parse(text):
        return word
    raise ValueError("empty text")


print(lookup({"a": 1}, ["a", "b", "c"]))
print(first_word("hello world"))
try:
    first_word("")
except ValueError as exc:
    print("handled:", exc)
first_word(" ")
