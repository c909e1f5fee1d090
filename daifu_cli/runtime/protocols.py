"""Exceptions that protocol methods raise to signal, not to fail; builtins only.

The interpreter's C code calls these methods and handles what they raise (IndexError ends
old-style iteration, AttributeError is "no such attribute" for getattr/hasattr), so a barrier
in such a method lets them pass. The shim checks this before it loads the rest of the runtime:
a module ``__getattr__`` asked by ``hasattr`` while the program walks ``sys.modules`` must not
import anything.
"""

from __future__ import annotations

PROTOCOL = {
    "__getitem__": (IndexError, KeyError),
    "__getattr__": (AttributeError,),
    "__getattribute__": (AttributeError,),
    "__get__": (AttributeError,),
    "__next__": (StopIteration,),
    "__missing__": (KeyError,),
    "__index__": (TypeError,),
    "__len__": (TypeError,),
}
#: The attribute on an exception that records daifu's verdict (so outer barriers skip it).
MARK = "__daifu_decision__"


def verdict(name: str, exc: BaseException) -> str | None:
    """Why *exc* raised by the protocol method *name* is the protocol's signal, or ``None``."""
    kinds = PROTOCOL.get(name)
    if kinds and isinstance(exc, kinds):
        return f"{type(exc).__name__} is part of the {name} protocol"
    return None
