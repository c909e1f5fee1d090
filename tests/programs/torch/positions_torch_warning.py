"""A UserWarning that torch raises from C++ names the user's file and line (shown on stderr,
recorded, and in a logging record through logging.captureWarnings)."""
import contextlib
import logging
import sys
import warnings

import torch

logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
warnings.simplefilter("always")


def copy_tensors(n):
    out = []
    for i in range(n):
        source = torch.ones(2) * i
        out.append(torch.tensor(source))
        with contextlib.nullcontext():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out.append(torch.tensor(source))
            for w in caught:
                print("recorded:", w.category.__name__, w.filename, w.lineno)
    return out


print(len(copy_tensors(2)))
logging.captureWarnings(True)
for step in range(1):
    torch.tensor(torch.zeros(1))
