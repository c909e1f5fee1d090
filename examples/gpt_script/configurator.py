"""
Settings from the command line, exec'd by train.py (so this runs in train.py's globals):

    python train.py config/tiny_chars.py --max_iters=40 --learning_rate=1e-3

A bare argument is a config file: a Python file of plain assignments, run here as is.
A --key=value argument overrides one setting that train.py already defines; the value is
read as a Python literal when it parses as one (numbers, booleans) and kept as a string
otherwise. The type has to match the default, which catches most typos.
"""
import sys
from ast import literal_eval

for arg in sys.argv[1:]:
    if not arg.startswith('--'):
        # a config file: show it, then run it over our globals
        config_file = arg
        print(f"applying config file {config_file}")
        with open(config_file) as f:
            config_source = f.read()
        exec(config_source)
        continue
    key, sep, val = arg[2:].partition('=')
    if not sep:
        raise ValueError(f"expected --key=value, got {arg}")
    if key not in globals():
        raise ValueError(f"unknown config key: {key}")
    try:
        new_value = literal_eval(val)
    except (SyntaxError, ValueError):
        new_value = val  # a plain string, e.g. --device=cpu
    if isinstance(globals()[key], float) and isinstance(new_value, int):
        new_value = float(new_value)  # --learning_rate=1 means 1.0
    assert type(new_value) == type(globals()[key]), f"{key}: expected {type(globals()[key]).__name__}"
    print(f"override: {key} = {new_value!r}")
    globals()[key] = new_value
