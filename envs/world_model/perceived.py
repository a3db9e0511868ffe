"""worldsim/PerceivedSim-v0: the simulator, seen through a world model's perception.

    env = gym.make("worldsim/PerceivedSim-v0", checkpoint="runs/wm")   # None: the default world model
    obs, info = env.reset(seed=0)

The simulator a world-model folder imitates steps as usual and renders its own frames, but the
low-dimensional keys a policy reads (``agent_pos``, ``environment_state``) are the world model's
state head reading those frames, and reward and success come from the world model's judge. Its
numbers against the plain simulator isolate perception error; the world-model env adds dynamics
error on top (DESIGN "How we know it works": the three columns). Spaces are the simulator's.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch


class PerceivedSimEnv(gym.Env):
    """Arguments: ``checkpoint`` (world-model folder, None: the default), ``judge`` ("state" or
    "learned", as the world-model env), ``env_id``/``cameras``/``image_size`` (checked against the
    checkpoint), ``render_mode``."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, judge=None, env_id=None, cameras=None, image_size=None,
                 render_mode: str | None = "rgb_array"):
        import envs  # noqa: F401
        from envs.world_model.session import load_for_env

        self.model = load_for_env(checkpoint, judge=judge, env_id=env_id, cameras=cameras, image_size=image_size)
        sim = self.model.sim
        self.env = gym.make(sim["env_id"], **{**sim["env_kwargs"], "cameras": tuple(sim["cameras"]),
                                              "render_mode": render_mode}).unwrapped
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space
        self.render_mode = render_mode
        self.metadata = dict(self.env.metadata)
        self._last = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self._last, self._last_latent = obs, self._latent(obs)
        return obs, info   # the first observation is the simulator's, as in the world-model env

    def step(self, action):
        if self._last is None:
            raise RuntimeError("call reset() before step()")
        obs, _, _, truncated, _ = self.env.step(action)
        latent = self._latent(obs)
        agent, env_state = self.model.dynamics.state_head(latent)
        before = [torch.from_numpy(np.asarray(self._last[k], np.float32)[None]) for k in ("agent_pos", "environment_state")]
        action_t = torch.from_numpy(np.asarray(action, np.float32)[None])
        reward, success = self.model.judge_step(self._last_latent, *before, action_t, agent, env_state)
        obs = {"pixels": obs["pixels"], "agent_pos": agent[0].numpy().astype(np.float32),
               "environment_state": env_state[0].numpy().astype(np.float32)}
        self._last, self._last_latent = obs, latent
        terminated = bool(success[0] and self.model.sim["terminate_on_success"])
        return obs, float(reward[0]), terminated, truncated, {"is_success": bool(success[0])}

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()

    @torch.no_grad()
    def _latent(self, obs: dict) -> torch.Tensor:
        return self.model.encode({c: f[None] for c, f in obs["pixels"].items()})
