"""Training and evaluation for the word-level LM: truncated BPTT, plateau LR annealing."""

import math
import time

import torch
import torch.nn as nn

from corpus import batchify, get_batch


def detach_hidden(hidden):
    """Cut the autograd graph at a batch boundary (truncated backpropagation through time)."""
    if isinstance(hidden, torch.Tensor):
        return hidden.detach()
    return tuple(detach_hidden(h) for h in hidden)


class Trainer:
    def __init__(self, model, corpus, batch_size=16, eval_batch_size=10, bptt=20, lr=20.0,
                 clip=0.25, log_interval=10):
        self.model = model
        self.corpus = corpus
        self.batch_size = batch_size
        self.bptt = bptt
        self.clip = clip
        self.log_interval = log_interval
        self.train_data = batchify(corpus.train, batch_size)
        self.val_data = batchify(corpus.valid, eval_batch_size)
        self.test_data = batchify(corpus.test, eval_batch_size)
        self.eval_batch_size = eval_batch_size
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        self.best_val_loss = None
        self.history = []

    @property
    def lr(self):
        return self.optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for group in self.optimizer.param_groups:
            group["lr"] = value

    @staticmethod
    def perplexity(loss):
        return math.exp(min(loss, 50))  # avoid overflow in the first steps of a bad config

    def train_epoch(self, epoch):
        self.model.train()
        total_loss = 0.0
        started = time.time()
        hidden = self.model.init_hidden(self.batch_size)
        n_batches = (self.train_data.size(0) - 1 + self.bptt - 1) // self.bptt
        for batch, i in enumerate(range(0, self.train_data.size(0) - 1, self.bptt)):
            inputs, targets = get_batch(self.train_data, i, self.bptt)
            # keep the state, drop its history: gradients stop at this chunk
            hidden = detach_hidden(hidden)
            self.optimizer.zero_grad()
            output, hidden = self.model(inputs, hidden)
            loss = self.criterion(output, targets)
            loss.backward()
            # LSTMs blow up without clipping at this learning rate
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
            self.optimizer.step()

            total_loss += loss.item()
            if batch % self.log_interval == 0 and batch > 0:
                cur_loss = total_loss / self.log_interval
                elapsed = time.time() - started  # not printed: stdout stays reproducible
                self.history.append((epoch, batch, cur_loss, elapsed))
                print(f"| epoch {epoch:2d} | {batch:3d}/{n_batches:3d} batches | lr {self.lr:.4f} "
                      f"| loss {cur_loss:.6f} | ppl {self.perplexity(cur_loss):10.4f}")
                total_loss = 0.0
                started = time.time()

    @torch.no_grad()
    def evaluate(self, data_source):
        self.model.eval()
        total_loss = 0.0
        hidden = self.model.init_hidden(self.eval_batch_size)
        for i in range(0, data_source.size(0) - 1, self.bptt):
            inputs, targets = get_batch(data_source, i, self.bptt)
            output, hidden = self.model(inputs, hidden)
            # weight each chunk by its length: the last one is usually shorter
            total_loss += len(inputs) * self.criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    def fit(self, epochs, save_path=None):
        for epoch in range(1, epochs + 1):
            self.train_epoch(epoch)
            val_loss = self.evaluate(self.val_data)
            print("-" * 72)
            print(f"| end of epoch {epoch:2d} | valid loss {val_loss:.6f} | valid ppl {self.perplexity(val_loss):10.4f}")
            print("-" * 72)
            if self.best_val_loss is None or val_loss < self.best_val_loss:
                self.best_val_loss = val_loss
                if save_path is not None:
                    torch.save(self.model.state_dict(), save_path)
            else:
                # no improvement on the validation set: anneal the learning rate
                self.lr = self.lr / 4.0
        return self.best_val_loss
