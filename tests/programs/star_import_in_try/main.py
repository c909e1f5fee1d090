"""`from ... import *` nested in a module-level try (the usual optional-dependency
fallback), in a script with a loop at module level."""
try:
    from fastmath import *
except ImportError:
    from slowmath import *

for n in range(3):
    print(n, square(n))
