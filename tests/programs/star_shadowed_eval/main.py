"""A training script whose `eval` and `vars` come from a star import: script-level calls
with one argument (or none) reach the user's functions unchanged."""
from helpers import *

for epoch in range(2):
    print(epoch, eval("net"), vars())
