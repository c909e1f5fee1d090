# flags: --policy default
"""No loop at module level: the script stays as it is."""
import os

print(os.getcwd())
