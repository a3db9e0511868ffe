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
        self._last = obs
        return obs, info   # the first observation is the simulator's, as in the world-model env

    def step(self, action):
        if self._last is None:
            raise RuntimeError("call reset() before step()")
        before = self._last
        obs, _, _, truncated, _ = self.env.step(action)
        obs = self._perceived(obs)
        reward, success = self._judged(before, np.asarray(action, np.float32), obs)
        self._last = obs
        terminated = bool(success and self.model.sim["terminate_on_success"])
        return obs, reward, terminated, truncated, {"is_success": bool(success)}

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()

    @torch.no_grad()
    def _latent(self, obs) -> torch.Tensor:
        from posttrain.latents import encode_views

        return encode_views(self.model.tokenizer, [obs["pixels"][c][None] for c in self.model.cameras]) / self.model.scale

    @torch.no_grad()
    def _perceived(self, obs: dict) -> dict:
        agent, env_state = self.model.dynamics.state_head(self._latent(obs))
        return {"pixels": obs["pixels"], "agent_pos": agent[0].numpy().astype(np.float32),
                "environment_state": env_state[0].numpy().astype(np.float32)}

    @torch.no_grad()
    def _judged(self, before: dict, action: np.ndarray, after: dict) -> tuple[float, bool]:
        if self.model.rule is not None:
            reward, success = self.model.rule(after["agent_pos"][None], after["environment_state"][None])
            return float(reward[0]), bool(success[0])
        state = torch.from_numpy(np.concatenate([before["agent_pos"], before["environment_state"]])[None])
        logit, reward = self.model.judges(self._latent(before), state, torch.from_numpy(action[None]))
        return float(reward[0]), bool(self.model.judges.success(logit)[0])
