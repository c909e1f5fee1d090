"""Train a classifier on synthetic data; evaluate every 20 steps, save the weights at the end.

The evaluation has a bug (it feeds the transposed inputs), which crashes the run at step 20.
"""

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from model import Classifier

torch.manual_seed(0)
FEATURES, CLASSES = 20, 3
inputs = torch.randn(640, FEATURES)
labels = (inputs @ torch.randn(FEATURES, CLASSES)).argmax(dim=1)
loader = DataLoader(
    TensorDataset(inputs, labels),
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)


def evaluate(model, inputs, labels):
    with torch.no_grad():
        logits = model(inputs.T)  # bug: the inputs are already (samples, features)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return accuracy.item()


def train(epochs):
    model = Classifier(FEATURES, 64, CLASSES)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    step = 0
    for epoch in range(epochs):
        for batch, target in loader:
            loss = F.cross_entropy(model(batch), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % 20 == 0:
                accuracy = evaluate(model, inputs, labels)
                print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}", flush=True)
    return model


if __name__ == "__main__":
    trained = train(epochs=3)
    torch.save(trained.state_dict(), "weights.pt")
    checksum = sum(p.double().sum().item() for p in trained.parameters())
    print(f"done: weights checksum {checksum:.10f}")
