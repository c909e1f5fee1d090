"""Functions whose whole body is a docstring (abstract methods, protocol stubs)."""


class Base:
    def hook(self):
        """Subclasses override this hook."""


def stub():
    """Nothing to do yet."""


print(repr(Base().hook()), repr(stub()), Base.hook.__doc__, stub.__doc__)
