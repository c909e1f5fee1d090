"""Module-level try/except around a call of a vaccinated function, in a module whose script
code is not vaccinated (no loop at module level): the handler catches the exception, so
nothing crashes (the runtime must read the module's handlers on every interpreter)."""


def parse(values):
    out = []
    for v in values:
        out.append(int(v))
    return out


try:
    parse(["1", "x"])
except ValueError as exc:
    print("handled at module level:", exc)
print("end")
