"""Models, importing a partner module that imports this one back (circular)."""
import contextlib

registry = []
for kind in ("linear", "conv"):
    registry.append(kind)

from . import partner  # noqa: E402  (circular: partner reads `registry` now)

partner_seen = partner.seen_from_models


class Model:
    def __init__(self, name):
        self.name = name

    def run(self, steps):
        with contextlib.nullcontext():
            history = [f"{self.name}:{s}" for s in range(steps)]
        return history
