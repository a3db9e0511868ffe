"""Meta-World's observation keys and the Sawyer physical state, both ways.

    agent_pos, environment_state = observation_of(states)        # (N, 44) -> (N, 4), (N, 17)
    states = state_of(reset_state, agent_pos, environment_state)  # the observation over a reset state

The layout is the Meta-World env's (``envs.metaworld_env``): ``agent_pos`` the hand and the gripper
opening; ``environment_state`` the object's position and quaternion, an unused second object, the goal.
"""

from __future__ import annotations

import numpy as np
import torch

from posttrain.sawyer.config import GOAL, GRIPPER, HAND, MOCAP, OBJ, OBJ_QUAT


def observation_of(states: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``agent_pos`` (N, 4) and ``environment_state`` (N, 17) of states (N, 44), as the Meta-World env
    lays them out (hand, gripper; object position and quaternion, an unused second object, goal)."""
    s = states.numpy().astype(np.float32)
    agent = np.concatenate([s[:, HAND], s[:, GRIPPER:GRIPPER + 1]], axis=1)
    env = np.concatenate([s[:, OBJ], s[:, OBJ_QUAT], np.zeros((len(s), 7), np.float32), s[:, GOAL]], axis=1)
    return agent, env


def state_of(reset_state: torch.Tensor, agent_pos: np.ndarray, environment_state: np.ndarray) -> torch.Tensor:
    """(N, 44) states: ``reset_state`` with the observation's hand, gripper, object pose and goal; the
    mocap target moved with the hand (after a reset it sits on it)."""
    agent = torch.as_tensor(np.asarray(agent_pos, np.float32))
    env = torch.as_tensor(np.asarray(environment_state, np.float32))
    s = reset_state[None].repeat(len(agent), 1)
    s[:, MOCAP] += agent[:, :3] - s[:, HAND]
    s[:, HAND], s[:, GRIPPER] = agent[:, :3], agent[:, 3]
    s[:, OBJ], s[:, OBJ_QUAT], s[:, GOAL] = env[:, 0:3], env[:, 3:7], env[:, 14:17]
    return s
