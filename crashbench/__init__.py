"""crashbench: crash cases of PyTorch training programs, and the harness that measures how each
recovery strategy (restart from scratch, checkpoint-retry, in-situ with daifu) restores them."""

__version__ = "0.1.0"
