"""The ``sim`` record of a simulator: its id, kwargs and spaces, as world-model folders and datasets keep it.

    sim = sim_spec_of("worldsim/TabletopPush-v0", {"cameras": ["top"], "image_size": 64})   # makes the env once
    sim["agent_dim"], sim["env_dim"], sim["action_low"], sim["height"], sim["max_episode_steps"]

``worldsim generate`` writes it into a dataset's meta/info.json (``worldsim.sim``), where the recipes
read it (``posttrain.common.bundle.sim_spec``); the untrained world models take it from their caller.
"""

from __future__ import annotations


def sim_spec_of(env_id: str, env_kwargs: dict) -> dict:
    """Spaces and settings of simulator ``env_id`` made with ``env_kwargs`` (cameras, image_size, ...)."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    cameras = list(env_kwargs["cameras"])
    env = gym.make(env_id, **{**env_kwargs, "cameras": tuple(cameras)})
    try:
        obs_space, action_space = env.observation_space, env.action_space
        height, width = obs_space["pixels"][cameras[0]].shape[:2]
        return {"env_id": env_id, "env_kwargs": dict(env_kwargs, cameras=cameras), "cameras": cameras,
                "height": int(height), "width": int(width), "agent_dim": int(obs_space["agent_pos"].shape[0]),
                "env_dim": int(obs_space["environment_state"].shape[0]),
                "action_low": action_space.low.tolist(), "action_high": action_space.high.tolist(),
                "terminate_on_success": bool(getattr(env.unwrapped, "terminate_on_success", True)),
                "max_episode_steps": int(env.spec.max_episode_steps or 100),
                "render_fps": int(env.metadata.get("render_fps", 10))}
    finally:
        env.close()


def generated_sim_spec(env_id: str, cameras, image_size: int, task=None) -> dict:
    """The record of a ``worldsim generate`` run's simulator (what its datasets store as ``worldsim.sim``)."""
    kwargs = {"cameras": list(cameras), "image_size": image_size}
    if task:
        kwargs["task"] = task
    return sim_spec_of(env_id, kwargs)
