"""The latent world model's perception of frames it did not make (the simulator's), batched.

    perceive = wm.perception()                     # wm: posttrain.action.world_model.WorldModel
    agent, env = perceive.reset([0], frames)       # {camera: uint8 (n, H, W, 3)}
    agent, env, reward, success = perceive.step(frames, actions)   # every env

Frames are encoded by the tokenizer, read by the state head, and the step judged by the world
model's judge (the task's rule on that state, or the learned judges on the step before it).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


class LatentPerception:
    def __init__(self, wm):
        self.wm = wm
        self.latent = self.agent = self.env = None

    @torch.no_grad()
    def reset(self, indices: Sequence[int], frames: dict) -> tuple[np.ndarray, np.ndarray]:
        latent = self.wm.encode(frames)
        agent, env = self.wm.dynamics.state_head(latent)
        idx = list(indices)
        if self.latent is None or len(self.latent) <= max(idx):
            n = max(idx) + 1
            self.latent = latent.new_zeros((n,) + latent.shape[1:])
            self.agent, self.env = agent.new_zeros(n, agent.shape[1]), env.new_zeros(n, env.shape[1])
        self.latent[idx], self.agent[idx], self.env[idx] = latent, agent, env
        return agent.numpy(), env.numpy()

    @torch.no_grad()
    def step(self, frames: dict, actions, indices: Sequence[int] | None = None):
        idx = list(range(len(self.latent))) if indices is None else list(indices)
        latent = self.wm.encode(frames)
        agent, env = self.wm.dynamics.state_head(latent)
        action = torch.as_tensor(np.asarray(actions, np.float32))
        reward, success = self.wm.judge_step(self.latent[idx], self.agent[idx], self.env[idx], action, agent, env)
        self.latent[idx], self.agent[idx], self.env[idx] = latent, agent, env
        return (agent.numpy().astype(np.float32), env.numpy().astype(np.float32), np.asarray(reward, np.float32),
                np.asarray(success, bool))
