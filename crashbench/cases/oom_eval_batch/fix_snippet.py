# The held-out set does not fit in one batch: evaluate it in 8 batches, then retry.
eval_batch_size = eval_batch_size // 8
