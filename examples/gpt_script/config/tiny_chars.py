# a quick CPU run: small model, short schedule, frequent evals
# (used by the tests; the defaults in train.py are a little bigger)
eval_interval = 10
eval_iters = 4
log_interval = 2

batch_size = 8
block_size = 24
n_layer = 2
n_head = 2
n_embd = 24

max_iters = 30
lr_decay_iters = 30  # usually the same as max_iters
warmup_iters = 5
