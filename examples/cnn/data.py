"""Synthetic image data: noisy 16x16 pictures of four simple shapes.

Each image is generated from its index and the dataset seed, so the data is identical in
every run and in every worker; no files are involved.
"""

import torch
from torch.utils.data import DataLoader, Dataset

CLASSES = ("square", "cross", "hbar", "vbar")


def draw_shape(label, size, gen):
    """One clean image of class `label`, with a random position and scale."""
    img = torch.zeros(size, size)
    half = int(torch.randint(2, 5, (1,), generator=gen))
    cy, cx = (int(v) for v in torch.randint(half, size - half, (2,), generator=gen))
    if label == 0:  # filled square
        img[cy - half:cy + half, cx - half:cx + half] = 1.0
    elif label == 1:  # cross: one row and one column
        img[cy, cx - half:cx + half + 1] = 1.0
        img[cy - half:cy + half + 1, cx] = 1.0
    elif label == 2:  # horizontal bar, two pixels thick
        img[cy:cy + 2, cx - half:cx + half] = 1.0
    else:  # vertical bar
        img[cy - half:cy + half, cx:cx + 2] = 1.0
    return img


class ShapesDataset(Dataset):
    def __init__(self, n, size=16, noise=0.3, seed=0):
        self.size = size
        gen = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, len(CLASSES), (n,), generator=gen)
        images = []
        for label in self.labels.tolist():
            img = draw_shape(label, size, gen)
            img = img + noise * torch.randn(size, size, generator=gen)
            images.append(img.unsqueeze(0))  # (1, H, W)
        self.images = torch.stack(images)
        # normalise with the statistics of this split
        self.images = (self.images - self.images.mean()) / self.images.std()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.images[idx], self.labels[idx]


def make_loaders(batch_size, seed, n_train=512, n_val=128):
    train_set = ShapesDataset(n_train, seed=seed)
    val_set = ShapesDataset(n_val, seed=seed + 1)
    # a dedicated generator makes the shuffling order reproducible
    shuffle_gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=0,
                              generator=shuffle_gen, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=2 * batch_size, shuffle=False, num_workers=0)
    return train_loader, val_loader
