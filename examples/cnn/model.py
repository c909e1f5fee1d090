"""A small convolutional classifier for 16x16 single-channel images."""

import torch
from torch import nn


class ConvBlock(nn.Sequential):
    """conv -> batch norm -> ReLU, optionally followed by 2x2 max pooling."""

    def __init__(self, in_channels, out_channels, pool=True):
        layers = [
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
        if pool:
            layers.append(nn.MaxPool2d(2))
        super().__init__(*layers)


class SmallCNN(nn.Module):
    def __init__(self, num_classes=4, width=8, dropout=0.1):
        super().__init__()
        self.features = nn.Sequential(
            ConvBlock(1, width),  # 16 -> 8
            ConvBlock(width, 2 * width),  # 8 -> 4
            ConvBlock(2 * width, 2 * width, pool=False),
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * width, num_classes),
        )

    def forward(self, x):
        return self.head(self.features(x))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
