"""__getitem__ that delegates to a helper: the helper's IndexError ends old-style iteration
(as with a map-style dataset iterated directly), and __getattr__ delegating to a helper."""


class Dataset:
    def __init__(self, items):
        self.items = items

    def load(self, index):
        for _ in range(1):
            return self.items[index] * 10

    def __getitem__(self, index):
        return self.load(index)

    def __len__(self):
        return len(self.items)


class Proxy:
    def __init__(self, target):
        self._target = target

    def lookup(self, name):
        for _ in range(1):
            return getattr(self._target, name)

    def __getattr__(self, name):
        return self.lookup(name)


for value in Dataset([1, 2, 3]):
    print(value)
print(list(Dataset([4])), hasattr(Proxy(1), "missing"), getattr(Proxy("s"), "nope", "dflt"))
