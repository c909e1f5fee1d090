"""A generated word-level corpus, its vocabulary and the usual batching helpers.

The text comes from a small random grammar (seeded), so there is no download and every run
sees the same tokens. Splits are tokenized into one long stream of word ids each.
"""

import random
import re

import torch

# a toy grammar: who does what to what, and sometimes where or when
NOUNS = ["model", "cat", "engineer", "robot", "student", "river", "garden", "letter", "city"]
ADJECTIVES = ["small", "old", "quiet", "bright", "tired", "green", "strange"]
VERBS = ["sees", "builds", "follows", "finds", "paints", "remembers", "trains"]
PLACES = ["in the morning", "near the river", "at night", "in the city", "after lunch"]

EOS = "<eos>"
UNK = "<unk>"


def noun_phrase(rng):
    words = [rng.choice(["the", "a", "every"])]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS))
    return " ".join(words)


def generate_text(num_sentences, seed):
    rng = random.Random(seed)
    sentences = []
    for _ in range(num_sentences):
        sentence = f"{noun_phrase(rng)} {rng.choice(VERBS)} {noun_phrase(rng)}"
        if rng.random() < 0.4:
            sentence += " " + rng.choice(PLACES)
        sentences.append(sentence.capitalize() + ".")
    return "\n".join(sentences)


def tokenize(line):
    """Lowercase words and punctuation as separate tokens."""
    return re.findall(r"[a-z]+|[.,!?]", line.lower())


class Vocabulary:
    """word <-> id, built from the training split; unseen words map to <unk>."""

    def __init__(self):
        self.word2idx = {}
        self.idx2word = []
        for special in (UNK, EOS):
            self.add_word(special)

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def encode(self, words):
        unk = self.word2idx[UNK]
        return [self.word2idx.get(w, unk) for w in words]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    def __init__(self, num_sentences=1500, seed=0, valid_fraction=0.1):
        lines = generate_text(num_sentences, seed).splitlines()
        n_valid = int(len(lines) * valid_fraction)
        splits = {
            "train": lines[: -2 * n_valid],
            "valid": lines[-2 * n_valid : -n_valid],
            "test": lines[-n_valid:],
        }
        self.vocab = Vocabulary()
        # the vocabulary only sees the training text
        for line in splits["train"]:
            for word in tokenize(line):
                self.vocab.add_word(word)
        self.train = self.ids(splits["train"])
        self.valid = self.ids(splits["valid"])
        self.test = self.ids(splits["test"])

    def ids(self, lines):
        ids = []
        for line in lines:
            ids.extend(self.vocab.encode(tokenize(line) + [EOS]))
        return torch.tensor(ids, dtype=torch.long)


def batchify(data, batch_size):
    """Cut a 1D stream into `batch_size` columns: (n_steps, batch_size); drops the remainder."""
    n_steps = data.size(0) // batch_size
    data = data[: n_steps * batch_size]
    return data.view(batch_size, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    inputs = source[i : i + seq_len]
    targets = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return inputs, targets
