"""The package."""
from .utils import *
from . import models

VERSION = "1.0"
__all__ = ["exported", "VERSION"]
for _name in ("a", "b"):
    pass
