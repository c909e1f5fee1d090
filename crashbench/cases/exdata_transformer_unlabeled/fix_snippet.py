# Mark the unlabelled examples with cross_entropy's default ignore_index (-100), then retry.
labels = labels.masked_fill(labels == UNLABELLED, -100)
