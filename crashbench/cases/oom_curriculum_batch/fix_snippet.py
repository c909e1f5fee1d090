# The batch does not fit: accumulate gradients over two micro-batches from now on, then retry.
max_micro = len(x) // 2
micro = max_micro
