"""Two-layer graph convolutional network (GCN) for semi-supervised node classification on a
synthetic stochastic-block-model graph (4 communities, noisy community features, 25% of the
nodes labelled). Full-batch training with dropout and Adam. Every 55 steps the model is
evaluated on a separate held-out graph whose edge list, as in many real datasets, uses global
node ids (drawn from a 10M-id space) rather than 0..n-1.

Bug (OOM): the evaluation builds the held-out graph's dense adjacency with
``int(node_ids.max()) + 1`` rows and columns (the global id space, ~10^7 x 10^7 floats =
400 TB) instead of relabelling the nodes to 0..n-1 first; the first evaluation (after step 54
of 350) fails at once with "DefaultCPUAllocator: can't allocate memory" (RuntimeError).
"""

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 350
EVAL_EVERY = 55
COMMUNITIES = 4
FEATURES = 16
ID_SPACE = 10_000_000
torch.manual_seed(0)
MEANS = torch.randn(COMMUNITIES, FEATURES, generator=torch.Generator().manual_seed(0))


def sbm_graph(seed, n, p_in=0.05, p_out=0.004):
    """Nodes (sorted global ids), features, edges (2, E) in global ids, labels."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, COMMUNITIES, (n,), generator=g)
    same = labels[:, None] == labels[None, :]
    prob = torch.where(same, p_in, p_out)
    upper = torch.triu(torch.rand(n, n, generator=g) < prob, diagonal=1)
    src, dst = upper.nonzero(as_tuple=True)
    features = MEANS[labels] * 0.5 + torch.randn(n, FEATURES, generator=g)
    node_ids = torch.randperm(ID_SPACE, generator=g)[:n].sort().values
    return node_ids, features, torch.stack([node_ids[src], node_ids[dst]]), labels


def normalized_adjacency(edges, n):
    adj = torch.zeros(n, n)
    adj[edges[0], edges[1]] = 1.0
    adj = adj + adj.T + torch.eye(n)
    d = adj.sum(1).rsqrt()
    return d[:, None] * adj * d[None, :]


class GCN(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.w1 = nn.Linear(FEATURES, hidden)
        self.w2 = nn.Linear(hidden, COMMUNITIES)

    def forward(self, adj, x):
        h = F.relu(adj @ self.w1(x))
        h = F.dropout(h, 0.5, self.training)
        return adj @ self.w2(h)


# The training graph comes already relabelled to 0..n-1.
TRAIN_IDS, TRAIN_X, TRAIN_EDGES, TRAIN_Y = sbm_graph(seed=1, n=600)
TRAIN_ADJ = normalized_adjacency(torch.searchsorted(TRAIN_IDS, TRAIN_EDGES), len(TRAIN_IDS))
LABELLED = torch.rand(600, generator=torch.Generator().manual_seed(2)) < 0.25


def evaluate(model):
    node_ids, x, edges, y = sbm_graph(seed=3, n=400)
    adj = normalized_adjacency(edges, int(node_ids.max()) + 1)
    model.eval()
    with torch.no_grad():
        accuracy = (model(adj, x).argmax(1) == y).float().mean().item()
    model.train()
    return accuracy


def main():
    model = GCN()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    checkpoints = cb.Checkpointer(model=model, optimizer=optimizer)
    start = checkpoints.restore()
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        logits = model(TRAIN_ADJ, TRAIN_X)
        loss = F.cross_entropy(logits[LABELLED], TRAIN_Y[LABELLED])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % EVAL_EVERY == 0:
            print(f"step {step + 1} loss {loss.item():.4f} held-out accuracy {evaluate(model):.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(model), loss=loss.item())


if __name__ == "__main__":
    main()
