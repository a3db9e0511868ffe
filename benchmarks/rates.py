"""Steps per second of a vector env, the one timing loop the benchmarks share.

    rate = vector_rate(lambda n: gym.make_vec(env_id, num_envs=n, vectorization_mode="sync"), 16, steps=40)
"""

from __future__ import annotations

import time

import numpy as np


def vector_rate(make, num_envs: int, steps: int) -> float:
    """Env steps per second (``num_envs`` per call) of ``make(num_envs)`` over ``steps`` seeded random
    actions, after two warm-up steps; the env is closed afterwards."""
    env = make(num_envs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.uniform(-1, 1, env.action_space.shape).astype(np.float32) for _ in range(steps + 2)]
    for a in actions[:2]:
        env.step(a)
    start = time.perf_counter()
    for a in actions[2:]:
        env.step(a)
    rate = steps * num_envs / (time.perf_counter() - start)
    env.close()
    return rate
