"""Play data for worldsim/TabletopPush-v0: pushes the block from every side in every direction.

A world model learns the physics it is shown. The expert only ever walks round the block and
pushes it towards the goal; this policy instead picks a random side of the block, walks to it,
pushes through it in a random direction for a random number of steps at a random speed, and now
and then wanders to a random point instead. It reads only the observation (pusher and block
positions), is batched, and is seeded by ``reset``.

    play = TabletopPushPlay(env.action_space)
    play.reset(num_envs=4, seed=0)
    actions = play.act(obs_batch)   # float32 (N, 2)
"""

from __future__ import annotations

import numpy as np

from policies.base import batch_size, clip_to_space

STEP = 0.05          # metres per step at full action
BEHIND = 0.065       # where to stand behind the block before a push
TABLE = 0.25         # wander targets are drawn in [-TABLE, TABLE]^2
APPROACH, PUSH, WANDER = 0, 1, 2


class TabletopPushPlay:
    reads_pixels = False

    def __init__(self, action_space):
        self.action_space = action_space
        self.reset(1, 0)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.mode = np.full(num_envs, -1)
        self.angle = np.zeros(num_envs)
        self.speed = np.ones(num_envs)
        self.left = np.zeros(num_envs, np.int64)
        self.point = np.zeros((num_envs, 2))

    def act(self, obs: dict) -> np.ndarray:
        n = batch_size(obs)
        if len(self.mode) != n:
            self.reset(n, int(self.rng.integers(2**31)))
        pusher = np.asarray(obs["agent_pos"], np.float64)[:, :2]
        block = np.asarray(obs["environment_state"], np.float64)[:, :2]
        moves = np.stack([self._move(i, pusher[i], block[i]) for i in range(n)])
        return clip_to_space(moves * self.speed[:, None], self.action_space)

    def _move(self, i: int, pusher: np.ndarray, block: np.ndarray) -> np.ndarray:
        """Unscaled action of env i: a velocity in half-ranges."""
        if self.mode[i] < 0 or (self.mode[i] != APPROACH and self.left[i] <= 0):
            self._next_plan(i, pusher)
        direction = np.array([np.cos(self.angle[i]), np.sin(self.angle[i])])
        if self.mode[i] == APPROACH:
            stand = block - BEHIND * direction
            if np.linalg.norm(stand - pusher) < 0.015:
                self.mode[i], self.left[i] = PUSH, self.rng.integers(3, 20)
            return (stand - pusher) / STEP
        self.left[i] -= 1
        if self.mode[i] == PUSH:
            wobble = self.rng.normal(0.0, 0.15, 2)
            return direction + wobble
        return (self.point[i] - pusher) / STEP

    def _next_plan(self, i: int, pusher: np.ndarray) -> None:
        self.speed[i] = self.rng.uniform(0.3, 1.0)
        self.angle[i] = self.rng.uniform(-np.pi, np.pi)
        if self.rng.random() < 0.75:
            self.mode[i] = APPROACH
        else:
            self.mode[i], self.left[i] = WANDER, self.rng.integers(3, 12)
            self.point[i] = self.rng.uniform(-TABLE, TABLE, 2)
