"""Functions whose whole body is a docstring (abstract methods, protocol stubs), next to a
function that is vaccinated."""


class Base:
    def hook(self):
        """Subclasses override this hook."""

    def run(self, steps):
        """Run the hook once per step."""
        for _ in range(steps):
            self.hook()
        return steps


def stub():
    """Nothing to do yet."""


print(repr(Base().hook()), repr(stub()), Base.hook.__doc__, stub.__doc__, Base().run(2))
