"""Shared helper for the policy tests: a policy spec's success rate in a simulator, over seeds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest


@pytest.fixture
def success_rate():
    """``success_rate(env_id, spec, seeds, **env_kwargs)``: the share of seeded episodes that end in success."""
    import envs  # noqa: F401  (registers the ids)
    from policies import make_policy
    from policies.base import stack_obs

    def rate(env_id: str, spec: str, seeds, **env_kwargs) -> float:
        env = gym.make(env_id, **env_kwargs)
        policy = make_policy(spec, env_id, env.action_space)
        wins = []
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            policy.reset(1, seed)
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(policy.act(stack_obs([obs]))[0])
                done = terminated or truncated
            wins.append(info["is_success"])
        env.close()
        return float(np.mean(wins))

    return rate
