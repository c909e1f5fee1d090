"""Train the regressor with Lightning's Trainer on the CPU: `python train.py --epochs 3`."""

import argparse

import lightning as L
import torch

from data import SyntheticData
from model import PrintLoss, Regressor


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    L.seed_everything(0, verbose=False)
    torch.set_num_threads(1)
    model = Regressor()
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accelerator="cpu",
        callbacks=[PrintLoss()],
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=SyntheticData(batch_size=args.batch_size))
    checksum = sum(float(p.detach().sum()) for p in model.parameters())
    print(f"weights checksum {checksum:.8f}")


if __name__ == "__main__":
    main()
