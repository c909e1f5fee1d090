"""Synthetic regression data (a fixed random function of 8 features) as a LightningDataModule."""

import lightning as L
import torch
from torch.utils.data import DataLoader


class SyntheticData(L.LightningDataModule):
    def __init__(self, samples: int = 256, batch_size: int = 16, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(samples, 8, generator=generator)
        weights = torch.randn(8, 1, generator=generator)
        self.y = torch.sin(self.x @ weights) + 0.1 * torch.randn(samples, 1, generator=generator)
        self.batch_size = batch_size
        self.split = samples * 3 // 4

    def collate(self, items):
        # a list of (x, y) pairs -> (x batch, y batch)
        xs, ys = zip(*items)
        return torch.stack(xs), torch.stack(ys)

    def train_dataloader(self):
        pairs = list(zip(self.x[: self.split], self.y[: self.split]))
        return DataLoader(pairs, batch_size=self.batch_size, collate_fn=self.collate)

    def val_dataloader(self):
        pairs = list(zip(self.x[self.split :], self.y[self.split :]))
        return DataLoader(pairs, batch_size=self.batch_size, collate_fn=self.collate)
