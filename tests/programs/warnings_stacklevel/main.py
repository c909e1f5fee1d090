"""warnings.warn(stacklevel=2) inside a with body or a finally of a library function must
name the library's caller (so __main__'s DeprecationWarnings are shown by default)."""
import os
import warnings

import lib

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(lib.old_api(1), lib.old_api_finally(1))
for w in caught:
    print(w.category.__name__, w.message, os.path.basename(w.filename), w.filename == __file__)
