"""Meta-World's own scripted expert for a task, as a batched worldsim ``Policy``.

    env = gym.make("worldsim/MetaWorld-v0", task="push-v3")
    policy = MetaWorldExpert("push-v3", env.action_space)
    policy.reset(num_envs=1, seed=0)
    actions = policy.act(batched_obs)      # float32 (N, 4)

The expert reads only ``agent_pos`` and ``environment_state``: it rebuilds the 39-d vector
Meta-World's scripted policies parse (hand, gripper, objects, previous frame, goal) from them,
so it runs unchanged in a world-model env that predicts those keys.
"""

from __future__ import annotations

import warnings

import numpy as np
from gymnasium import spaces

from policies.base import clip_to_space


def expert_class_name(task: str) -> str:
    """``"drawer-open-v3"`` -> ``"SawyerDrawerOpenV3Policy"`` (Meta-World's naming)."""
    name, version = task.rsplit("-", 1)
    return "Sawyer" + "".join(w.capitalize() for w in name.split("-")) + version.upper() + "Policy"


def metaworld_vector(agent_pos: np.ndarray, environment_state: np.ndarray) -> np.ndarray:
    """Meta-World's 39-d observations ``(N, 39)`` from ``agent_pos (N, 4)`` and
    ``environment_state (N, 17)``; the previous-frame half repeats the current frame, as
    Meta-World's own first observation of an episode does (the scripted policies ignore it)."""
    frame = np.concatenate([agent_pos, environment_state[:, :14]], axis=1)  # (N, 18)
    goal = environment_state[:, 14:17]  # (N, 3)
    return np.concatenate([frame, frame, goal], axis=1).astype(np.float64)  # (N, 39)


class MetaWorldExpert:
    """Stateless scripted expert; one Meta-World policy object serves every env of the batch."""

    reads_pixels = False

    def __init__(self, task: str, action_space: spaces.Box):
        from envs.metaworld_env import check_task

        import metaworld.policies

        self.task = check_task(task)
        self.action_space = action_space
        self._policy = getattr(metaworld.policies, expert_class_name(task))()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        pass

    def act(self, obs: dict) -> np.ndarray:
        agent_pos = np.asarray(obs["agent_pos"], np.float64)
        env_state = np.asarray(obs["environment_state"], np.float64)
        if agent_pos.ndim != 2 or agent_pos.shape[1] != 4 or env_state.shape != (agent_pos.shape[0], 17):
            raise ValueError(
                f"MetaWorldExpert expects batched agent_pos (N, 4) and environment_state (N, 17); "
                f"got {agent_pos.shape} and {env_state.shape}"
            )
        vectors = metaworld_vector(agent_pos, env_state)  # (N, 39)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Constant\\(s\\) may be too high")
            actions = np.stack([self._policy.get_action(v) for v in vectors])  # (N, 4)
        return clip_to_space(actions, self.action_space)
