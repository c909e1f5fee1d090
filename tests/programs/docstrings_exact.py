"""Module docstring.

    Indented paragraph of the module docstring.
"""
import contextlib


def documented(a):
    """Summary line.

    Args:
        a: an argument.

            Deeper indented text.
	Tab-indented line.
    Trailing spaces here:   
    """
    for _ in range(1):
        return a


class Documented:
    '''Class docstring with 'single' quotes.

        Indented more.
    '''

    def method(self):
        """Method docstring."""
        with contextlib.nullcontext():
            def nested():
                """Nested function docstring,
                spanning lines."""
                return 1

            class Inner:
                """Inner class
                  docstring."""

        return nested, Inner

    def raw(self):
        r"""Raw \n docstring."""
        for _ in range(1):
            return self.raw.__doc__

    def only_docstring(self):
        """Nothing but a docstring and a pass."""
        pass


def no_docstring():
    "single-quoted docstring"; x = 1
    for _ in range(1):
        return x


def not_a_docstring():
    x = 1
    """Just a string statement."""
    return x


nested, Inner = Documented().method()
for obj in (documented, Documented, Documented.method, nested, Inner, Documented.raw,
            Documented.only_docstring, no_docstring, not_a_docstring):
    print(repr(obj.__doc__))
print(repr(__doc__), Documented().raw(), no_docstring())
for i in range(1):
    with contextlib.nullcontext():
        class InScript:
            """Docstring of a class
            defined in a with body at script level."""

        in_script = lambda: None
        in_script.__doc__ = """Docstring set
            in a with body at script level."""
print(repr(InScript.__doc__), repr(in_script.__doc__))
