# A nanoGPT-style script: configuration as globals, overridden by exec'd code that reads and
# writes globals(), a training-like loop at module level, and globals() inspection.
import os
batch_size = 4
learning_rate = 0.1
ctx = "cpu-context"
config = {"name": "demo"}
config_keys = [k for k, v in globals().items() if not k.startswith("_") and isinstance(v, (int, float, bool, str))]
exec("learning_rate = 0.05\nbatch_size = batch_size * 2")
exec(compile("for key in ('extra',):\n    globals()[key] = len(key)", "<configurator>", "exec"))
print(sorted(config_keys), learning_rate, batch_size, extra)

losses = []
it = 0
while True:
    loss = 1.0 / (it + 1)
    with open(os.devnull) as f:
        losses.append(round(loss * learning_rate, 6))
    it += 1
    if it > 5:
        break

for i, value in enumerate(losses):
    if i % 2:
        continue
    print(i, value)
else:
    print("loop finished")

print(sorted(k for k in globals() if not k.startswith("__")))
print(locals() is globals(), "ctx" in dir(), vars()["ctx"])
total: int = sum(range(3))
print(__annotations__, total)
