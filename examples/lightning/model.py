"""A small MLP regressor as a LightningModule, and a Callback that prints every step's loss."""

import lightning as L
import torch
from torch import nn


class Regressor(L.LightningModule):
    def __init__(self, width: int = 32, lr: float = 0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(8, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


class PrintLoss(L.Callback):
    """Prints each step's loss with all its digits: any divergence shows."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        print(f"step {trainer.global_step:3d} loss {float(outputs['loss']):.8f}")

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            print(f"epoch {trainer.current_epoch} val_loss {float(trainer.callback_metrics['val_loss']):.8f}")
