"""Vector envs for evaluation: simulators as a ``SyncVectorEnv``, native vector envs through ``make_vec``.

    env = make_vector_env("worldsim/TabletopPush-v0", num_envs=4, env_kwargs={"cameras": ("top",)})

A simulator's ``SyncVectorEnv`` runs with autoreset ``DISABLED`` so the runner can reset each
slot with the seed of its next episode. An id whose spec has a ``vector_entry_point`` (the
world-model env) is built with ``gym.make_vec(..., vectorization_mode="vector_entry_point")``
and keeps its own autoreset mode; the runner then schedules in waves.
"""

from __future__ import annotations

from functools import partial

import gymnasium as gym


def _single(env_id: str, env_kwargs: dict):
    import envs

    return envs.make(env_id, **env_kwargs)


def check_registered(env_id: str) -> None:
    import envs  # noqa: F401  (registers the worldsim ids)

    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("worldsim/"))
        raise ValueError(f"unknown env {env_id!r}; registered worldsim envs: {', '.join(known)}")


def make_vector_env(env_id: str, num_envs: int, env_kwargs: dict | None = None) -> gym.vector.VectorEnv:
    check_registered(env_id)
    env_kwargs = dict(env_kwargs or {})
    if gym.spec(env_id).vector_entry_point is not None:
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    factories = [partial(_single, env_id, env_kwargs) for _ in range(num_envs)]
    return gym.vector.SyncVectorEnv(factories, autoreset_mode=gym.vector.AutoresetMode.DISABLED)
