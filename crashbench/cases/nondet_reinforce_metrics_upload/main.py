"""REINFORCE with a baseline on a small self-written gridworld, 32 environments in lockstep.

The 5x5 grid has a treasure in the far corner (+1) and a pit (-1); every move costs 0.01,
the floor is slippery (10% of moves go a random way) and an episode lasts at most 16 moves.
Every 10 updates the metrics are pushed to a collector service (simulated: a JSON-lines file).

Fault (nondeterministic): the collector resets the connection once, on the 27th push (after
update 269 of 300): ConnectionResetError. The marker file ``.fault_fired`` next to this program
records that it fired, so a retry or a restart pushes fine.
"""

import errno
import json
import os

import torch
import torch.nn.functional as F
from torch import nn

import cb_support as cb

STEPS = 300
ENVS = 32
HORIZON = 16
SIZE = 5
GAMMA = 0.97
HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = os.path.join(HERE, ".fault_fired")
torch.manual_seed(0)

MOVES = torch.tensor([[-1, 0], [1, 0], [0, -1], [0, 1]])
GOAL = torch.tensor([SIZE - 1, SIZE - 1])
PITS = torch.tensor([[1, 3]])


class GridWorld:
    """A batch of gridworld episodes; its randomness (slips) comes from its own generator."""

    def __init__(self, envs, seed):
        self.g = torch.Generator().manual_seed(seed)
        self.pos = torch.zeros(envs, 2, dtype=torch.long)
        self.done = torch.zeros(envs, dtype=torch.bool)

    def observe(self):
        return F.one_hot(self.pos[:, 0] * SIZE + self.pos[:, 1], SIZE * SIZE).float()

    def step(self, actions):
        slip = torch.rand(len(actions), generator=self.g) < 0.1
        actions = torch.where(slip, torch.randint(0, 4, actions.shape, generator=self.g), actions)
        moved = (self.pos + MOVES[actions]).clamp(0, SIZE - 1)
        self.pos = torch.where(self.done[:, None], self.pos, moved)
        at_goal = (self.pos == GOAL).all(1)
        in_pit = (self.pos[:, None, :] == PITS[None]).all(2).any(1)
        reward = torch.full((len(actions),), -0.01) + at_goal.float() - in_pit.float()
        reward = torch.where(self.done, torch.zeros_like(reward), reward)
        alive = ~self.done
        self.done = self.done | at_goal | in_pit
        return reward, alive


class MetricsClient:
    """Pushes metrics to a collector (simulated: appends JSON lines to a file)."""

    def __init__(self, path):
        self.path = path
        self.pushes = 0

    def push(self, record):
        self.pushes += 1
        if self.pushes == 27 and not os.path.exists(MARKER):
            open(MARKER, "w").close()
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer (metrics collector)")
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def rollout(policy, seed):
    env = GridWorld(ENVS, seed)
    log_probs, entropies, rewards, alive = [], [], [], []
    for _ in range(HORIZON):
        logp = F.log_softmax(policy(env.observe()), dim=1)
        actions = torch.multinomial(logp.exp(), 1).squeeze(1)
        reward, was_alive = env.step(actions)
        log_probs.append(logp.gather(1, actions[:, None]).squeeze(1))
        entropies.append(-(logp.exp() * logp).sum(1))
        rewards.append(reward)
        alive.append(was_alive.float())
    return torch.stack(log_probs), torch.stack(entropies), torch.stack(rewards), torch.stack(alive)


def discounted_returns(rewards):
    returns = torch.zeros_like(rewards)
    running = torch.zeros(rewards.shape[1])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + GAMMA * running
        returns[t] = running
    return returns


def train():
    policy = nn.Sequential(nn.Linear(SIZE * SIZE, 64), nn.Tanh(), nn.Linear(64, 4))
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-3)
    checkpoints = cb.Checkpointer(policy=policy, optimizer=optimizer)
    start = checkpoints.restore()
    baseline = checkpoints.extra.get("baseline", 0.0)
    metrics = MetricsClient(os.path.join(HERE, "metrics.jsonl"))
    metrics.pushes = start // 10
    loss = episode_return = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        log_probs, entropies, rewards, alive = rollout(policy, seed=step)
        returns = discounted_returns(rewards)
        advantage = (returns - baseline) * alive
        loss = -(log_probs * advantage).sum(0).mean() - 0.05 * (entropies * alive).sum(0).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        episode_return = rewards.sum(0).mean()
        baseline = 0.9 * baseline + 0.1 * (returns * alive).sum().item() / alive.sum().item()
        if (step + 1) % 10 == 0:
            metrics.push({"step": step + 1, "return": episode_return.item(), "loss": loss.item()})
        if (step + 1) % 100 == 0:
            print(f"step {step + 1} return {episode_return.item():.3f} baseline {baseline:.3f}", flush=True)
        checkpoints.extra["baseline"] = baseline
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(policy), loss=loss.item(), episode_return=episode_return.item())


if __name__ == "__main__":
    train()
