"""Word-level language modelling with an LSTM on a generated corpus.

    python train.py --epochs 4 --bptt 20
"""

import argparse
import os

import torch

from corpus import Corpus
from model import MODELS
from trainer import Trainer


def get_args():
    p = argparse.ArgumentParser(description="LSTM word language model")
    p.add_argument("--model", default="lstm", choices=sorted(MODELS))
    p.add_argument("--sentences", type=int, default=1200, help="size of the generated corpus")
    p.add_argument("--emsize", type=int, default=32)
    p.add_argument("--nhid", type=int, default=32)
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--tied", action="store_true", help="tie the word embedding and softmax weights")
    p.add_argument("--lr", type=float, default=20.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--bptt", type=int, default=20, help="truncation length")
    p.add_argument("--log-interval", type=int, default=10)
    p.add_argument("--save", default="out/model.pt")
    p.add_argument("--seed", type=int, default=1111)
    return p.parse_args()


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    corpus = Corpus(num_sentences=args.sentences, seed=args.seed)
    print(f"vocabulary: {len(corpus.vocab)} words; train {len(corpus.train)} tokens, "
          f"valid {len(corpus.valid)}, test {len(corpus.test)}")
    model = MODELS[args.model](len(corpus.vocab), args.emsize, args.nhid, args.nlayers,
                               args.dropout, args.tied)
    trainer = Trainer(model, corpus, batch_size=args.batch_size, bptt=args.bptt, lr=args.lr,
                      clip=args.clip, log_interval=args.log_interval)
    os.makedirs(os.path.dirname(args.save) or ".", exist_ok=True)
    trainer.fit(args.epochs, save_path=args.save)

    # the best model on the validation set, scored once on the test set
    model.load_state_dict(torch.load(args.save))
    test_loss = trainer.evaluate(trainer.test_data)
    print("=" * 72)
    print(f"| end of training | test loss {test_loss:.6f} | test ppl {trainer.perplexity(test_loss):10.4f}")
    print("=" * 72)
    checksum = sum(p.detach().double().sum().item() for p in model.parameters())
    print(f"weights checksum {checksum:.10f}")


if __name__ == "__main__":
    main()
