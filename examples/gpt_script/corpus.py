"""
A toy text corpus, generated on the fly so the example needs no download.

Sentences come from a tiny hand-written grammar; the random generator is seeded, so the
same arguments always give the same text (and the same training curve).
"""

import random

SUBJECTS = ["the cat", "a small dog", "the old man", "my sister", "the robot", "a tired student"]
VERBS = ["sees", "likes", "builds", "paints", "follows", "forgets"]
OBJECTS = ["the red ball", "a long letter", "the quiet river", "an empty box", "the city lights"]
ENDINGS = [".", ".", ".", "!", "?"]  # mostly full stops, like real text


def make_sentence(rng):
    words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)]
    if rng.random() < 0.3:
        # an adverb now and then so the model has something harder to predict
        words.append(rng.choice(["again", "slowly", "at night", "every day"]))
    return " ".join(words) + rng.choice(ENDINGS)


def build_corpus(num_sentences, seed=0):
    """Return `num_sentences` sentences, a few per line."""
    rng = random.Random(seed)
    lines, line = [], []
    for _ in range(num_sentences):
        line.append(make_sentence(rng))
        if len(line) == 3:
            lines.append(" ".join(line))
            line = []
    if line:  # leftover sentences
        lines.append(" ".join(line))
    return "\n".join(lines) + "\n"
