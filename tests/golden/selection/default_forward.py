# flags: --policy default
import torch


class Net(torch.nn.Module):
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __len__(self):
        for _ in range(1):
            return 1

    @torch.jit.script
    def scripted(x):
        for i in range(2):
            x = x + i
        return x
