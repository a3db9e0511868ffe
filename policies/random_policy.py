"""Uniformly random actions from the env's action space, seeded at ``reset``."""

from __future__ import annotations

import numpy as np


class RandomPolicy:
    reads_pixels = False

    def __init__(self, action_space):
        self.action_space = action_space
        self.rng = np.random.default_rng(0)
        self.num_envs = 1

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.num_envs = num_envs
        self.rng = np.random.default_rng(seed)

    def act(self, obs: dict) -> np.ndarray:
        n = int(np.asarray(obs["agent_pos"]).shape[0])
        low, high = self.action_space.low, self.action_space.high
        return self.rng.uniform(low, high, (n,) + self.action_space.shape).astype(np.float32)
