"""The batched ``Policy`` protocol every policy follows, simulated or imagined env alike.

    policy.reset(num_envs=4, seed=0)
    actions = policy.act(obs_batch)        # float32 (num_envs, action_dim)

``obs_batch`` is a batched observation of the env contract: ``{"pixels": {cam: uint8
(N, H, W, 3)}, "agent_pos": float32 (N, D), "environment_state": float32 (N, E)}`` (what a
gymnasium vector env returns). Policies read only the observation, never simulator internals.

A policy may say whether it reads ``pixels`` with a ``reads_pixels`` attribute; one that reads
only the low-dimensional keys sets it False, and a simulator may then skip rendering for it
(``reads_pixels(policy)``; a policy that does not say is taken to read frames).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces


@runtime_checkable
class Policy(Protocol):
    action_space: spaces.Box  # the single-env action space

    def reset(self, num_envs: int, seed: int | None = None) -> None: ...

    def act(self, obs: dict) -> np.ndarray: ...


def reads_pixels(policy) -> bool:
    """Whether ``policy`` reads ``obs["pixels"]``: its ``reads_pixels`` attribute, True if it has none."""
    return bool(getattr(policy, "reads_pixels", True))


def batch_size(obs: dict) -> int:
    return int(np.asarray(obs["agent_pos"]).shape[0])


def index_obs(obs, i):
    """The i-th env's observation from a batched observation (nested dicts of arrays)."""
    if isinstance(obs, dict):
        return {k: index_obs(v, i) for k, v in obs.items()}
    return np.asarray(obs)[i]


def stack_obs(items: list):
    """Inverse of ``index_obs``: batch a list of single-env observations."""
    if isinstance(items[0], dict):
        return {k: stack_obs([it[k] for it in items]) for k in items[0]}
    return np.stack([np.asarray(x) for x in items])


def clip_to_space(actions: np.ndarray, space: spaces.Box) -> np.ndarray:
    return np.clip(actions, space.low, space.high).astype(np.float32)
