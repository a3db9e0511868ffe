"""A trained ``BCNet`` as a batched worldsim ``Policy`` (deterministic, no per-episode state).

    policy = BCPolicy(net, env.action_space)
    policy.reset(num_envs=4, seed=0)
    actions = policy.act(obs_batch)      # float32 (N, action_dim), clipped to the action space

Reads ``pixels[cfg.camera]`` (unless trained with ``use_image=False``: then ``reads_pixels`` is
False), ``agent_pos`` and ``environment_state`` only. Load one from a
checkpoint with ``policies.bc_spec.load_bc_policy`` (spec ``bc:PATH``).
"""

from __future__ import annotations

import numpy as np
import torch

from policies.base import clip_to_space
from policies.bc import BCNet


class BCPolicy:
    def __init__(self, net: BCNet, action_space, device: str | torch.device = "cpu"):
        self.net = net.to(device).eval()
        self.cfg = net.cfg
        self.action_space = action_space
        self.device = torch.device(device)
        self.reads_pixels = bool(self.cfg.use_image)
        if tuple(action_space.shape) != (self.cfg.action_dim,):
            raise ValueError(f"BC policy outputs {self.cfg.action_dim}-d actions; the env's action space is "
                             f"{tuple(action_space.shape)}")

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        pass

    def _inputs(self, obs: dict) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        pixels = obs.get("pixels", {})
        if cfg.use_image and cfg.camera not in pixels:
            raise ValueError(f"BC policy reads camera {cfg.camera!r}; the observation has {sorted(pixels)}")
        agent = np.asarray(obs["agent_pos"], np.float32)  # (N, D)
        env_state = np.asarray(obs.get("environment_state", np.zeros((len(agent), 0))), np.float32)  # (N, E)
        state = np.concatenate([agent, env_state[:, :cfg.env_dim]], axis=1)
        if state.shape[1] != cfg.state_dim:
            raise ValueError(f"BC policy expects agent_pos + environment_state of {cfg.state_dim} values, "
                             f"got {state.shape[1]}")
        images = np.asarray(pixels[cfg.camera]) if cfg.use_image else np.zeros((len(agent), 1, 1, 3), np.uint8)
        if cfg.use_image and images.shape[1:3] != (cfg.image_size, cfg.image_size):
            raise ValueError(f"BC policy was trained on {cfg.image_size}x{cfg.image_size} frames, got "
                             f"{images.shape[1]}x{images.shape[2]}; evaluate with image_size={cfg.image_size}")
        return torch.from_numpy(images).to(self.device), torch.from_numpy(state).to(self.device)

    @torch.no_grad()
    def act(self, obs: dict) -> np.ndarray:
        images, state = self._inputs(obs)
        actions = self.net.unnormalize_action(self.net(images, state))  # (N, A)
        return clip_to_space(actions.cpu().numpy(), self.action_space)
