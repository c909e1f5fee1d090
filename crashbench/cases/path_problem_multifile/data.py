"""Synthetic topic-classification corpus: each document is a bag of words drawn mostly from
its topic's keywords, partly from shared filler words and other topics' keywords."""

import torch

TOPICS = 5
KEYWORDS_PER_TOPIC = 40
FILLER = 200
VOCAB = TOPICS * KEYWORDS_PER_TOPIC + FILLER


def documents(seed, n, min_len=8, max_len=24):
    """A batch in EmbeddingBag layout: (flat token ids, offsets, labels)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, TOPICS, (n,), generator=g)
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=g)
    owner = torch.repeat_interleave(torch.arange(n), lengths)
    kind = torch.rand(len(owner), generator=g)
    own_topic = labels[owner] * KEYWORDS_PER_TOPIC + torch.randint(0, KEYWORDS_PER_TOPIC, (len(owner),), generator=g)
    any_topic = torch.randint(0, TOPICS * KEYWORDS_PER_TOPIC, (len(owner),), generator=g)
    filler = TOPICS * KEYWORDS_PER_TOPIC + torch.randint(0, FILLER, (len(owner),), generator=g)
    tokens = torch.where(kind < 0.3, own_topic, torch.where(kind < 0.5, any_topic, filler))
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
    return tokens, offsets, labels


def load_label_names(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().split()
