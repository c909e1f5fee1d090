"""Multi-line strings, f-strings, byte strings and backslash continuations inside with
bodies, try/finally parts and loops: re-indenting the code must not change their content."""
import contextlib
import textwrap


def report(name, values):
    with contextlib.nullcontext():
        header = """Report
    indented line
	tab-indented line
no indent"""
        body = f"""name: {name}
  values: {values!r}
    total: {sum(values):>8.2f}
"""
        raw = r"""C:\path\no\escape
        \n stays"""
        joined = ("first part "
                  "second part "
                  f"{name} part")
        continued = "line one " \
            "line two"
        expr = (1 +
                2 +
                3)
        doc = textwrap.dedent("""\
            dedented
              keeps relative
            indent
        """)
    return header, body, raw, joined, continued, expr, doc


def in_finally(items):
    try:
        text = "\n".join(f"""  - {i}:
      {i * 2}""" for i in items)
    finally:
        tail = b"""bytes
    with indent\x00"""
    return text, tail


class Template:
    def render(self, **fields):
        for key, value in fields.items():
            with contextlib.nullcontext():
                line = f"{key!s:<6}|{value!r:^10}|{'quoted'}|{{braces}}|{value if value else 'none'}"
                print(line)
                print(f"""multi {key}
        second {value!s:{'>'}{8}}
""", end="")
        return "rendered"


for part in report("demo", [1.5, 2.25]):
    print(repr(part))
print(in_finally([1, 2]))
print(Template().render(alpha=1, beta=None))
for n in range(2):
    with contextlib.nullcontext():
        print("""script level
    string {}
""".format(n), end="")
        long_line = "x" * 10 + """
   after""" + '''
single quotes "inside" '''
        print(repr(long_line))
