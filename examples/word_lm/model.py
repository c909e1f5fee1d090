"""Word-level LSTM language model (embedding -> LSTM -> linear decoder)."""

import torch
import torch.nn as nn

MODELS = {}


def register_model(name):
    """Class decorator: make a model constructible by name from the command line."""

    def wrap(cls):
        MODELS[name] = cls
        return cls

    return wrap


@register_model("lstm")
class LSTMLanguageModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.2, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout if nlayers > 1 else 0.0)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            # "Using the Output Embedding to Improve Language Models" (Press & Wolf, 2017)
            if nhid != ninp:
                raise ValueError("tied weights need nhid == ninp")
            self.decoder.weight = self.encoder.weight
        self.nhid = nhid
        self.nlayers = nlayers
        self.init_weights()

    def init_weights(self, scale=0.1):
        nn.init.uniform_(self.encoder.weight, -scale, scale)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -scale, scale)

    def forward(self, inputs, hidden):
        emb = self.drop(self.encoder(inputs))  # (seq, batch, ninp)
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        logits = self.decoder(output)
        return logits.view(-1, self.ntoken), hidden

    def init_hidden(self, batch_size):
        weight = next(self.parameters())
        shape = (self.nlayers, batch_size, self.nhid)
        return weight.new_zeros(shape), weight.new_zeros(shape)
