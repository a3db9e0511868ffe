"""Registration of worldsim's Gymnasium envs, with string entry points (nothing heavy imported).

Importing ``envs`` registers every simulator and world-model env recorded in ``envs.simulators``;
``make`` adds a clear error for unknown ids.
"""

from __future__ import annotations

import gymnasium as gym

from envs.simulators import SIMULATORS, WORLD_MODEL_ENVS

# registration kwargs by id, read from the records (simulators; learned world models apart, so the
# simulator test suite does not run over them)
ENVS = {spec.env_id: spec.registration() for spec in SIMULATORS}
WORLD_MODELS = {spec.env_id: spec.registration() for spec in WORLD_MODEL_ENVS}


def register_all() -> None:
    for env_id, kwargs in {**ENVS, **WORLD_MODELS}.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)


def check_env_id(env_id: str) -> str:
    if env_id not in ENVS and env_id not in WORLD_MODELS:
        raise ValueError(f"unknown env id {env_id!r}; allowed: {', '.join([*ENVS, *WORLD_MODELS])}")
    return env_id


def make(env_id: str, /, **kwargs) -> gym.Env:
    """``gym.make`` for worldsim ids, with a one-line error for an unknown id."""
    return gym.make(check_env_id(env_id), **kwargs)
