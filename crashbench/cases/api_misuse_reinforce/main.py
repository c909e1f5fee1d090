"""REINFORCE with a running-mean baseline on a self-written 5x5 grid world (reach the goal
corner, small step penalty, walls at the border). The policy is a small MLP over a one-hot
position; each training step collects two episodes with actions sampled from a per-step
generator, so a restart replays exactly. The entropy bonus is annealed to zero by step 400;
from then on the greedy policy is evaluated every 50 steps.

Bug (API misuse): the greedy evaluation takes ``torch.max(probs, dim=-1).item()``, but
``torch.max`` with ``dim`` returns a (values, indices) named tuple, which has no ``.item()``:
the first greedy evaluation (after step 399 of 500) raises AttributeError.
"""

import random

import torch
from torch import nn

import cb_support as cb

STEPS = 500
EPISODES_PER_STEP = 2
SIZE = 5
MAX_MOVES = 30
ANNEAL_END = 400
EVAL_EVERY = 50
MOVES = [(-1, 0), (1, 0), (0, -1), (0, 1)]
torch.manual_seed(0)


class GridWorld:
    """Reach (SIZE-1, SIZE-1) from a random start; -0.02 per move, +1 at the goal."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pos = (0, 0)
        self.moves = 0

    def observe(self):
        obs = torch.zeros(SIZE * SIZE)
        obs[self.pos[0] * SIZE + self.pos[1]] = 1.0
        return obs

    def reset(self):
        while True:
            self.pos = (self.rng.randrange(SIZE), self.rng.randrange(SIZE))
            if self.pos != (SIZE - 1, SIZE - 1):
                break
        self.moves = 0
        return self.observe()

    def step(self, action):
        dr, dc = MOVES[action]
        r = min(max(self.pos[0] + dr, 0), SIZE - 1)
        c = min(max(self.pos[1] + dc, 0), SIZE - 1)
        self.pos = (r, c)
        self.moves += 1
        at_goal = self.pos == (SIZE - 1, SIZE - 1)
        reward = 1.0 if at_goal else -0.02
        return self.observe(), reward, at_goal or self.moves >= MAX_MOVES


def discounted(rewards, gamma=0.97):
    out, running = [], 0.0
    for r in reversed(rewards):
        running = r + gamma * running
        out.append(running)
    return torch.tensor(out[::-1])


def evaluate(policy, episodes=8):
    total = 0.0
    with torch.no_grad():
        for episode in range(episodes):
            env = GridWorld(seed=-1 - episode)
            obs, done = env.reset(), False
            while not done:
                probs = policy(obs).softmax(-1)
                action = torch.max(probs, dim=-1).item()
                obs, reward, done = env.step(action)
                total += reward
    return total / episodes


def main():
    policy = nn.Sequential(nn.Linear(SIZE * SIZE, 64), nn.Tanh(), nn.Linear(64, 4))
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    checkpoints = cb.Checkpointer(policy=policy, optimizer=optimizer)
    start = checkpoints.restore()
    baseline = checkpoints.extra.get("baseline", 0.0)
    loss = torch.tensor(0.0)
    for step in range(start, STEPS):
        cb.step(step)
        g = torch.Generator().manual_seed(50_000 + step)
        beta = 0.02 * max(0.0, 1.0 - step / ANNEAL_END)
        log_probs, entropies, returns = [], [], []
        for episode in range(EPISODES_PER_STEP):
            env = GridWorld(seed=step * EPISODES_PER_STEP + episode)
            obs, done, rewards = env.reset(), False, []
            while not done:
                dist = torch.distributions.Categorical(logits=policy(obs))
                action = torch.multinomial(dist.probs, 1, generator=g).squeeze()
                log_probs.append(dist.log_prob(action))
                entropies.append(dist.entropy())
                obs, reward, done = env.step(int(action))
                rewards.append(reward)
            returns.append(discounted(rewards))
        returns = torch.cat(returns)
        advantage = returns - baseline
        loss = -(torch.stack(log_probs) * advantage).mean() - beta * torch.stack(entropies).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        baseline = 0.9 * baseline + 0.1 * returns.mean().item()
        checkpoints.extra["baseline"] = baseline
        if step + 1 >= ANNEAL_END and (step + 1) % EVAL_EVERY == 0:
            score = evaluate(policy)
            print(f"step {step + 1} loss {loss.item():.4f} greedy return {score:.3f}", flush=True)
        checkpoints.save_if_due(step + 1)
    cb.final(checksum=cb.checksum(policy), loss=loss.item(), baseline=baseline, greedy=evaluate(policy))


if __name__ == "__main__":
    main()
