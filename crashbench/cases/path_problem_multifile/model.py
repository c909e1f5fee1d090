"""fastText-style classifier: mean of word embeddings (EmbeddingBag), one hidden layer."""

from torch import nn


class BagOfWordsClassifier(nn.Module):
    def __init__(self, vocab, classes, dim=32, hidden=64):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim, mode="mean")
        self.classify = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, tokens, offsets):
        return self.classify(self.embed(tokens, offsets))
