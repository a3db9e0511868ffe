"""The driving simulator's rules applied to a (predicted) low-dimensional state.

    rule = DrivingOutcome(goal_distance=80.0)
    reward, success, crashed = rule(before, after, start_x)   # (N, D+E) float32 states, (N,) start x

What ``envs.driving.DrivingMultiViewEnv`` decides from its bodies, decided from the state a world
model predicts: a crash is ``|y|`` beyond the road edge, past the road's end, or the box of a
nearby moving car (environment_state's first 18 entries: six cars' (dx, dy, dyaw) in the ego
frame) overlapping the ego's; parked cars are not in the state. Success is ``goal_distance``
metres past the start x without a crash; the reward is ``0.1`` per metre of progress along x minus
``0.1 * |lane offset|``, ``-10`` on a crash, ``+10`` on success.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.driving_ego import boxes_overlap
from envs.driving_layout import CAR_HALF, ROAD_EDGE, X_MAX

GOAL_DISTANCE = 80.0  # metres along x, the simulator's default (envs/driving.py)
AGENT_DIM = 4         # agent_pos: the ego's (x, y, yaw, speed)
LANE_OFFSET = 18      # environment_state index of the lane offset
NEAR = 6.0            # metres: cars farther than this in x or y cannot touch the ego this step


@dataclass(frozen=True)
class DrivingOutcome:
    goal_distance: float = GOAL_DISTANCE
    agent_dim: int = AGENT_DIM

    def __call__(self, before: np.ndarray, after: np.ndarray, start_x: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reward float32, success bool, crashed bool), each (N,), of the step ``before`` -> ``after``."""
        d = self.agent_dim
        n = len(after)
        reward, success, crashed = np.zeros(n, np.float32), np.zeros(n, bool), np.zeros(n, bool)
        for i in range(n):
            agent, env = after[i, :d], after[i, d:]
            x, y, yaw = (float(v) for v in agent[:3])
            cars = env[:18].reshape(6, 3)
            near = [(float(dx), float(dy), 0.0) for dx, dy, _ in cars if abs(dx) < NEAR and abs(dy) < NEAR]
            crashed[i] = abs(y) > ROAD_EDGE or x > X_MAX or any(boxes_overlap((0.0, 0.0, yaw), p, CAR_HALF)
                                                                for p in near)
            success[i] = not crashed[i] and x - float(start_x[i]) >= self.goal_distance
            r = 0.1 * (agent[0] - before[i, 0]) - 0.1 * abs(env[LANE_OFFSET])
            r += -10.0 if crashed[i] else 10.0 if success[i] else 0.0
            reward[i] = r
        return reward, success, crashed
