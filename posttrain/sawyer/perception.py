"""The Sawyer world model's perception of frames it did not make (the simulator's), batched.

    perceive = wm.perception()
    agent, env = perceive.reset([0, 1], frames)          # {camera: uint8 (n, H, W, 3)}: reads and keeps the goal
    agent, env, reward, success = perceive.step(frames, actions)   # every env: (N, 4), (N, 17), (N,), (N,) bool

The same reader, the same observation layout and the same rule as the world-model env: the goal is
read once, on the first frame (the arm may hide it later), the hand, the gripper and the object on
every frame; what no frame shows (the object's orientation) is the folder's ``reset_state``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from posttrain.pixel_unet.frames import to_float
from posttrain.sawyer.config import GOAL, GRIPPER, HAND, OBJ
from posttrain.sawyer.observation import observation_of


def read_states(wm, frames: torch.Tensor, goal: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(states (N, 44): ``wm.reset_state`` with what the reader sees in frames (N, 3, H, W), the goal
    given or read; the goal used (N, 3))."""
    read = wm.reader(frames)
    goal = read["goal"] if goal is None else goal
    s = wm.reset_state[None].repeat(len(frames), 1)
    s[:, HAND], s[:, GRIPPER], s[:, OBJ], s[:, GOAL] = read["hand"], read["gripper"], read["object"], goal
    return s, goal


class SawyerPerception:
    def __init__(self, wm):
        self.wm = wm
        self.goal = torch.zeros(0, 3)

    @torch.no_grad()
    def reset(self, indices: Sequence[int], frames: dict) -> tuple[np.ndarray, np.ndarray]:
        states, goal = read_states(self.wm, to_float(frames[self.wm.cameras[0]]))
        need = max(list(indices), default=-1) + 1
        if len(self.goal) < need:
            self.goal = torch.cat([self.goal, torch.zeros(need - len(self.goal), 3)])
        self.goal[list(indices)] = goal
        return observation_of(states)

    @torch.no_grad()
    def step(self, frames: dict, actions=None, indices: Sequence[int] | None = None):
        """Read every env's frame (or envs ``indices``): (agent, env, reward, success); the rule
        needs no actions."""
        goal = self.goal if indices is None else self.goal[list(indices)]
        states, _ = read_states(self.wm, to_float(frames[self.wm.cameras[0]]), goal)
        agent, env = observation_of(states)
        reward, success = self.wm.rule(agent, env)
        return agent, env, np.asarray(reward, np.float32), np.asarray(success)
