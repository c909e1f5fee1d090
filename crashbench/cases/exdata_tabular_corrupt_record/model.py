"""A multilayer perceptron for tabular classification."""

from torch import nn


class TabularMLP(nn.Module):
    def __init__(self, features, classes, hidden=128, dropout=0.1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(features, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.layers(x)
