"""Registration of worldsim's Gymnasium envs, with string entry points (nothing heavy imported).

Importing ``envs`` registers every id below; ``make`` adds a clear error for unknown ids.
"""

from __future__ import annotations

import gymnasium as gym

ENVS = {
    "worldsim/TabletopPush-v0": dict(entry_point="envs.tabletop_push:TabletopPushEnv", max_episode_steps=100),
    "worldsim/MetaWorld-v0": dict(entry_point="envs.metaworld_env:MetaWorldEnv", max_episode_steps=150),
    "worldsim/DrivingMultiView-v0": dict(entry_point="envs.driving:DrivingMultiViewEnv", max_episode_steps=150),
}
# learned world models: not simulators, so the simulator test suite does not run over them
WORLD_MODELS = {
    "worldsim/WorldModel-v0": dict(entry_point="envs.world_model_env:WorldModelEnv",
                                   vector_entry_point="envs.world_model_vector_env:WorldModelVectorEnv",
                                   max_episode_steps=100),
    "worldsim/DrivingWorldModel-v0": dict(entry_point="envs.multiview_world_env:MultiViewWorldModelEnv", max_episode_steps=150),
    "worldsim/CameraWorld-v0": dict(entry_point="envs.camera_world_env:CameraWorldEnv", max_episode_steps=50),
    # the simulator with a world model's state head and judge in place of its true state and success
    "worldsim/PerceivedSim-v0": dict(entry_point="envs.world_model.perceived:PerceivedSimEnv",
                                     vector_entry_point="envs.world_model.perceived:PerceivedSimVectorEnv",
                                     max_episode_steps=100),
}


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
