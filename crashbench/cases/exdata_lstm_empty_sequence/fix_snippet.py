# The batch has a sentence with zero words: give it length 1 (one padding token, whose
# target is padding too, so it adds nothing to the loss), then retry the forward pass.
lengths = lengths.clamp(min=1)
