"""The pixel world model's perception of frames it did not make (the simulator's), batched.

    perceive = wm.perception()
    agent, env = perceive.reset([0, 1], frames)        # {camera: uint8 (n, H, W, 3)}: reads and keeps the goal
    agent, env, reward, success = perceive.step(frames, actions)   # every env: (N, D), (N, E), (N,), (N,) bool

The same reader and the same rule as the world-model env: the goal is read once, on the first
frame (a block lying on the goal later hides part of it), pusher and block on every frame.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from posttrain.pixel_unet.frames import to_float


class PixelPerception:
    def __init__(self, wm):
        self.wm = wm
        self.goal = torch.zeros(0, 2)

    @torch.no_grad()
    def reset(self, indices: Sequence[int], frames: dict) -> tuple[np.ndarray, np.ndarray]:
        xy = self.wm.reader(to_float(frames[self.wm.cameras[0]]))  # (n, objects, 2)
        need = max(list(indices), default=-1) + 1
        if len(self.goal) < need:
            self.goal = torch.cat([self.goal, torch.zeros(need - len(self.goal), 2)])
        self.goal[list(indices)] = xy[:, 2]
        return xy[:, 0].numpy(), torch.cat([xy[:, 1], xy[:, 2]], dim=1).numpy()

    @torch.no_grad()
    def step(self, frames: dict, actions=None, indices: Sequence[int] | None = None):
        """Read every env's frame (or envs ``indices``): (agent, env, reward, success); the rule
        needs no actions."""
        xy = self.wm.reader(to_float(frames[self.wm.cameras[0]]))
        goal = self.goal if indices is None else self.goal[list(indices)]
        agent, env = xy[:, 0].numpy(), torch.cat([xy[:, 1], goal], dim=1).numpy()
        reward, success = self.wm.rule(agent, env)
        return agent.astype(np.float32), env.astype(np.float32), np.asarray(reward, np.float32), np.asarray(success)
