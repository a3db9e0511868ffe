"""Wrappers that degrade a policy in graded, seeded ways, for a policy zoo of known quality.

Each takes the wrapped policy and one strength parameter; 0 leaves the policy unchanged.

    noisy = GaussianNoise(expert, scale=0.3)
    noisy.reset(num_envs=8, seed=0)

They draw from their own generator seeded at ``reset``, so a rollout is reproducible. Envs
that restart mid-batch (vector autoreset) are signalled with ``reset_envs(mask)``.
"""

from __future__ import annotations

import zlib
from collections import deque

import numpy as np

from policies.base import clip_to_space, reads_pixels


class PolicyWrapper:
    name = "wrapper"

    def __init__(self, policy, strength: float):
        self.policy, self.strength = policy, float(strength)
        self.action_space = policy.action_space
        self.rng = np.random.default_rng(0)
        self.num_envs = 0

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.policy.reset(num_envs, seed)
        salt = zlib.crc32(f"{self.name}:{self.strength}".encode())
        self.rng = np.random.default_rng(None if seed is None else [seed, salt])
        self.num_envs = num_envs

    @property
    def reads_pixels(self) -> bool:
        return reads_pixels(self.policy)

    def reset_envs(self, mask: np.ndarray) -> None:
        if hasattr(self.policy, "reset_envs"):
            self.policy.reset_envs(mask)

    def act(self, obs: dict) -> np.ndarray:
        return clip_to_space(self.transform(np.asarray(self.policy.act(obs), np.float32)), self.action_space)

    def transform(self, actions: np.ndarray) -> np.ndarray:  # (N, A) -> (N, A)
        raise NotImplementedError


class GaussianNoise(PolicyWrapper):
    """Adds N(0, scale^2) noise, scale in units of the action range's half-width."""

    name = "noise"

    def transform(self, actions):
        half = (self.action_space.high - self.action_space.low) / 2
        return actions + self.rng.normal(0.0, self.strength, actions.shape) * half


class EpsilonRandom(PolicyWrapper):
    """With probability ``eps`` per env and step, a uniformly random action instead."""

    name = "eps"

    def transform(self, actions):
        swap = self.rng.random(actions.shape[0]) < self.strength                    # (N,)
        rand = self.rng.uniform(self.action_space.low, self.action_space.high, actions.shape)
        return np.where(swap[:, None], rand, actions)


class ActionDelay(PolicyWrapper):
    """Acts with the action chosen ``steps`` steps ago (zeros until then)."""

    name = "delay"

    def reset(self, num_envs, seed=None):
        super().reset(num_envs, seed)
        self.queue = deque(np.zeros((num_envs,) + self.action_space.shape, np.float32)
                           for _ in range(int(self.strength)))

    def reset_envs(self, mask):
        super().reset_envs(mask)
        for past in self.queue:
            past[np.asarray(mask, bool)] = 0.0

    def transform(self, actions):
        if not self.queue:
            return actions
        self.queue.append(actions.copy())
        return self.queue.popleft()


class StuckActuator(PolicyWrapper):
    """With probability ``p`` per episode, one actuator (the last: Meta-World's gripper) is stuck at 0."""

    name = "stuck"
    dim = -1

    def reset(self, num_envs, seed=None):
        super().reset(num_envs, seed)
        self.stuck = self.rng.random(num_envs) < self.strength   # (N,)

    def reset_envs(self, mask):
        super().reset_envs(mask)
        mask = np.asarray(mask, bool)
        self.stuck[mask] = self.rng.random(int(mask.sum())) < self.strength

    def transform(self, actions):
        actions = actions.copy()
        actions[self.stuck, self.dim] = 0.0
        return actions


class ConstantBias(PolicyWrapper):
    """Adds a constant offset to every action dimension, in units of the half-range."""

    name = "bias"

    def transform(self, actions):
        half = (self.action_space.high - self.action_space.low) / 2
        return actions + self.strength * half


WRAPPERS = {w.name: w for w in (GaussianNoise, EpsilonRandom, ActionDelay, StuckActuator, ConstantBias)}
