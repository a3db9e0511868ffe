"""Scripted expert for worldsim/TabletopPush-v0, reading only the observation.

It walks the pusher round to the side of the block away from the goal, then pushes along the
block-to-goal line, steering back onto that line as the block drifts. Batched and stateless.

    expert = TabletopPushExpert(env.action_space)
    actions = expert.act(obs_batch)   # float32 (N, 2)
"""

from __future__ import annotations

import numpy as np

from policies.base import clip_to_space

BEHIND = 0.06       # pusher centre behind the block centre when pushing (block 0.025 + pusher 0.02)
CLEARANCE = 0.065   # keep this far from the block centre while walking round it
STEP = 0.05         # metres per step at full action (0.5 m/s for 0.1 s)


class TabletopPushExpert:
    reads_pixels = False

    def __init__(self, action_space):
        self.action_space = action_space

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        pass

    def act(self, obs: dict) -> np.ndarray:
        pusher = np.asarray(obs["agent_pos"], np.float64)[:, :2]       # (N, 2)
        state = np.asarray(obs["environment_state"], np.float64)        # (N, 4)
        targets = np.stack([_target(p, s[:2], s[2:4]) for p, s in zip(pusher, state)])
        return clip_to_space((targets - pusher) / STEP, self.action_space)


def _target(pusher: np.ndarray, block: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Where the pusher should be after this step."""
    to_goal = goal - block
    dist = np.linalg.norm(to_goal)
    u = to_goal / max(dist, 1e-6)                 # push direction
    n = np.array([-u[1], u[0]])                   # left of the push direction
    rel = pusher - block
    along, across = rel @ u, rel @ n
    if along < -0.8 * BEHIND and abs(across) < 0.012:   # lined up behind: push, steering back on line
        return pusher + STEP * u - 0.5 * across * n
    if along < -0.5 * BEHIND:                            # behind but off line: slide onto the line
        return block - BEHIND * u
    side = np.sign(across) if abs(across) > 1e-3 else 1.0
    if abs(across) < CLEARANCE:                           # beside or ahead: step out sideways first
        return block + along * u + side * CLEARANCE * n
    return block - BEHIND * u + side * CLEARANCE * n      # clear of the block: go round behind it
