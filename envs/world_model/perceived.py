"""worldsim/PerceivedSim-v0: the simulator, seen through a world model's perception.

    env = gym.make("worldsim/PerceivedSim-v0", checkpoint="runs/wm")   # None: the default world model
    vec = gym.make_vec("worldsim/PerceivedSim-v0", num_envs=16, vectorization_mode="vector_entry_point")

The simulator a world-model folder imitates steps as usual and renders its own frames, but the
low-dimensional keys a policy reads (``agent_pos``, ``environment_state``) are the world model's
reading of those frames, and reward and success come from the world model's judge. Its numbers
against the plain simulator isolate perception error; the world-model env adds dynamics error on
top (docs/design.md, "How the models are checked": the three columns). Spaces are the simulator's. The
simulator runs with its own termination off: an episode ends when the *perceived* success
fires, as it does in the world model. The vector env reads all envs' frames in one batched pass
and resets slots with ``options={"reset_mask": mask}`` (autoreset ``DISABLED``, as the
evaluation runner expects of a ``SyncVectorEnv``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.arguments import named_arguments
from envs.world_model.session import episode_steps


def _load(checkpoint, judge, env_id, cameras, image_size):
    import envs  # noqa: F401
    from envs.world_model.session import load_for_env

    return load_for_env(checkpoint, judge=judge, env_id=env_id, cameras=cameras, image_size=image_size)


def _simulator(model, render_mode):
    sim = model.sim
    kwargs = {**sim["env_kwargs"], "cameras": tuple(sim["cameras"]), "render_mode": render_mode}
    env = gym.make(sim["env_id"], **kwargs).unwrapped
    if hasattr(env, "terminate_on_success"):
        env.terminate_on_success = False   # episodes end on the perceived success, not the true one
    return env


def _batch(frames: list[dict], cameras) -> dict:
    return {c: np.stack([f[c] for f in frames]) for c in cameras}


@named_arguments
class PerceivedSimEnv(gym.Env):
    """Arguments: ``checkpoint`` (world-model folder, None: the default), ``judge`` ("state" or
    "learned", as the world-model env), ``env_id``/``cameras``/``image_size`` (checked against the
    checkpoint), ``render_mode``."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, judge=None, env_id=None, cameras=None, image_size=None,
                 render_mode: str | None = "rgb_array"):
        self.model = _load(checkpoint, judge, env_id, cameras, image_size)
        self.env = _simulator(self.model, render_mode)
        self.perceive = self.model.perception()
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space
        self.render_mode = render_mode
        self.metadata = dict(self.env.metadata)
        self._started = False
        self._elapsed = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self.perceive.reset([0], {c: f[None] for c, f in obs["pixels"].items()})
        self._started = True
        self._elapsed = 0
        return obs, info   # the first observation is the simulator's, as in the world-model env

    def step(self, action):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        obs, _, _, truncated, _ = self.env.step(action)
        agent, env_state, reward, success = self.perceive.step({c: f[None] for c, f in obs["pixels"].items()},
                                                               np.asarray(action, np.float32)[None])
        obs = {"pixels": obs["pixels"], "agent_pos": agent[0], "environment_state": env_state[0]}
        terminated = bool(success[0] and self.model.sim["terminate_on_success"])
        self._elapsed += 1
        truncated = bool(truncated) or self._elapsed >= episode_steps(self)
        return obs, float(reward[0]), terminated, truncated, {"is_success": bool(success[0])}

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()


@named_arguments
class PerceivedSimVectorEnv(VectorEnv):
    """``num_envs`` simulators stepped in turn, their frames read by the world model in one pass."""

    def __init__(self, checkpoint=None, num_envs: int = 1, max_episode_steps: int | None = None, *, judge=None,
                 env_id=None, cameras=None, image_size=None, render_mode: str | None = "rgb_array"):
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} must be a positive int")
        self.model = _load(checkpoint, judge, env_id, cameras, image_size)
        self.num_envs = int(num_envs)
        self.envs = [_simulator(self.model, render_mode) for _ in range(self.num_envs)]
        self.perceive = self.model.perception()
        self.single_observation_space, self.single_action_space = self.envs[0].observation_space, self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {**self.envs[0].metadata, "autoreset_mode": AutoresetMode.DISABLED}
        self.render_mode = render_mode
        self.max_episode_steps = int(max_episode_steps or self.model.sim["max_episode_steps"])
        self.elapsed = np.zeros(self.num_envs, np.int64)
        self._obs: list = [None] * self.num_envs

    def reset(self, *, seed=None, options=None):
        mask = np.asarray((options or {}).get("reset_mask", np.ones(self.num_envs, bool)), bool)
        seeds = [int(seed) + i for i in range(self.num_envs)] if isinstance(seed, (int, np.integer)) else \
            (list(seed) if seed is not None else [None] * self.num_envs)
        idx = [i for i in range(self.num_envs) if mask[i]]
        infos: dict = {}
        for i in idx:
            self._obs[i], info = self.envs[i].reset(seed=seeds[i])
            infos = self._add_info(infos, info, i)
        if idx:
            self.perceive.reset(idx, _batch([self._obs[i]["pixels"] for i in idx], self.model.cameras))
        self.elapsed[idx] = 0
        return self._stack(), infos

    def step(self, actions):
        actions = np.asarray(actions, np.float32)
        truncated = np.zeros(self.num_envs, bool)
        for i, env in enumerate(self.envs):
            self._obs[i], _, _, truncated[i], _ = env.step(actions[i])
        agent, env_state, reward, success = self.perceive.step(
            _batch([o["pixels"] for o in self._obs], self.model.cameras), actions)
        infos: dict = {}
        for i in range(self.num_envs):
            self._obs[i] = {"pixels": self._obs[i]["pixels"], "agent_pos": agent[i], "environment_state": env_state[i]}
            infos = self._add_info(infos, {"is_success": bool(success[i])}, i)
        self.elapsed += 1
        truncated |= self.elapsed >= self.max_episode_steps
        terminated = success.astype(bool) & bool(self.model.sim["terminate_on_success"])
        return self._stack(), reward.astype(np.float64), terminated, truncated, infos

    def _stack(self) -> dict:
        return {"pixels": _batch([o["pixels"] for o in self._obs], self.model.cameras),
                "agent_pos": np.stack([o["agent_pos"] for o in self._obs]).astype(np.float32),
                "environment_state": np.stack([o["environment_state"] for o in self._obs]).astype(np.float32)}

    def close_extras(self, **kwargs):
        for env in getattr(self, "envs", ()):   # none when the model failed to load (no second error)
            env.close()
