"""daifu: in-situ crash recovery for PyTorch training programs."""

__version__ = "0.1.0"
