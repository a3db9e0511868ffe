"""The native vector env of worldsim/WorldModel-v0: N world-model envs in one batched forward pass.

    import gymnasium as gym, envs
    vec = gym.make_vec("worldsim/WorldModel-v0", num_envs=16, checkpoint="runs/wm")
    obs, info = vec.reset(seed=0)                     # env i starts from the simulator's seed 0 + i
    obs, rewards, terminated, truncated, info = vec.step(actions)   # actions (16, A)

Gymnasium 1.x vector semantics with ``autoreset_mode=SAME_STEP``: an env that ends is reset in
the same ``step``; its last observation and info are in ``info["final_obs"]`` (an object array)
and ``info["final_info"]``, masked by ``info["_final_obs"]`` / ``info["_final_info"]``, and every
info key has its ``_key`` mask, exactly as ``SyncVectorEnv`` of single ``WorldModelEnv``s reports
them. Env i gets the same numbers it would get as a single env reset with seed ``seed + i``.
Truncation after ``max_episode_steps`` (given by ``gym.make_vec``; default: the simulator's).
``reset(options={"render": False})`` on a model with a render switch (a grounded pixel world
model: its state never comes from frames) steps the state alone until the next reset, frames
zeros, as the simulators do for policies that read no pixels; other models always render.
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.arguments import named_arguments
from envs.contract import validate_action
from envs.world_model.resets import make_reset_source
from envs.world_model.session import load_for_env, observation, render_option, spaces
from envs.world_model.env import MODEL_SEED_HIGH


@named_arguments
class WorldModelVectorEnv(VectorEnv):
    """See the module docstring; arguments as ``WorldModelEnv`` plus ``num_envs``, ``max_episode_steps``."""

    def __init__(self, checkpoint=None, num_envs: int = 1, max_episode_steps: int | None = None, *,
                 predictor=None, sample_steps=None, sampler=None, reencode=False, judge=None, reset_source="sim",
                 dataset=None, env_id=None, cameras=None, image_size=None, render_mode: str | None = "rgb_array"):
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} must be a positive int")
        self.model = load_for_env(checkpoint, predictor=predictor, sample_steps=sample_steps, sampler=sampler,
                                  reencode=reencode, judge=judge, env_id=env_id, cameras=cameras, image_size=image_size)
        self.num_envs = int(num_envs)
        self.single_observation_space, self.single_action_space = spaces(self.model)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": self.model.sim["render_fps"],
                         "autoreset_mode": AutoresetMode.SAME_STEP}
        self.render_mode = render_mode
        self.max_episode_steps = int(max_episode_steps or self.model.sim["max_episode_steps"])
        self.terminate_on_success = bool(self.model.sim["terminate_on_success"])
        data = self.model.config.get("provenance", {}).get("data")
        self.sources = [make_reset_source(self.model.sim, reset_source, dataset, data) for _ in range(self.num_envs)]
        self.rngs = [None] * self.num_envs
        self.state = None
        self.elapsed = np.zeros(self.num_envs, np.int64)
        self.render_frames = True
        self._obs = None

    # -------------------------------------------------------- reset

    def reset(self, *, seed=None, options=None):
        seeds = self._seeds(seed)
        self.render_frames = render_option(options, self.model)
        self.rngs = [seeding.np_random(s)[0] if s is not None or r is None else r for s, r in zip(seeds, self.rngs)]
        self.state, obs_list, infos = self._start(range(self.num_envs), seeds)
        self.elapsed[:] = 0
        self._obs = self._stack(obs_list)
        return self._obs, infos

    def _seeds(self, seed) -> list:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} envs")
        return seeds

    def _start(self, indices, seeds):
        """Start envs ``indices`` (one batched encode); their state, observations and infos."""
        starts = [self.sources[i].initial(s, self.rngs[i]) for i, s in zip(indices, seeds)]
        model_seeds = [int(self.rngs[i].integers(MODEL_SEED_HIGH)) for i in indices]
        frames = {c: np.stack([s.frames[c] for s in starts])[:, None] for c in self.model.cameras}
        agent = np.stack([s.agent_pos for s in starts]).astype(np.float32)
        env_state = np.stack([s.environment_state for s in starts]).astype(np.float32)
        state = self.model.start(frames, None, {"agent_pos": agent, "environment_state": env_state}, model_seeds)
        obs = [observation({c: f[:, 0] for c, f in frames.items()}, agent, env_state, j) for j in range(len(starts))]
        return state, obs, [{"is_success": s.is_success} for s in starts]

    # -------------------------------------------------------- step

    def step(self, actions):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        switch = {} if self.render_frames else {"render": False}
        self.state, frames, extras = self.model.step(self.state, actions, **switch)
        self.elapsed += 1
        success = extras["success"].astype(bool)
        terminated = success & self.terminate_on_success
        truncated = self.elapsed >= self.max_episode_steps
        obs_list = [observation(frames, extras["agent_pos"], extras["environment_state"], i)
                    for i in range(self.num_envs)]
        env_infos = [{"is_success": bool(s)} for s in success]
        infos = self._autoreset(np.flatnonzero(terminated | truncated), obs_list, env_infos)
        self._obs = self._stack(obs_list)
        rewards = extras["reward"].astype(np.float64)
        return self._obs, rewards, terminated, truncated, infos

    def _autoreset(self, done, obs_list, env_infos) -> dict:
        """Record final obs/info of ``done`` envs, restart them in place; the batched info dict."""
        infos: dict = {}
        for i in done:
            infos = self._add_info(infos, {"final_obs": obs_list[i], "final_info": env_infos[i]}, int(i))
        if len(done):
            state, new_obs, new_infos = self._start(done.tolist(), [None] * len(done))
            self.state = self.state.replace(done.tolist(), state)
            self.elapsed[done] = 0
            for j, i in enumerate(done):
                obs_list[i], env_infos[i] = new_obs[j], new_infos[j]
        for i, info in enumerate(env_infos):
            infos = self._add_info(infos, info, i)
        return infos

    def _check_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions, dtype=np.float32) if not isinstance(actions, np.ndarray) else actions
        if a.shape != self.action_space.shape:
            raise ValueError(f"actions have shape {a.shape}; expected {self.action_space.shape} "
                             f"(num_envs, *single action shape)")
        for i in range(self.num_envs):
            try:
                validate_action(a[i], self.single_action_space)
            except ValueError as err:
                raise ValueError(f"env {i}: {err}") from None
        return a.astype(np.float32)

    def _stack(self, obs_list: list) -> dict:
        return {"pixels": {c: np.stack([o["pixels"][c] for o in obs_list]) for c in self.model.cameras},
                "agent_pos": np.stack([o["agent_pos"] for o in obs_list]),
                "environment_state": np.stack([o["environment_state"] for o in obs_list])}

    def render(self):
        if self.render_mode is None:
            return None
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return tuple(self._obs["pixels"][self.model.cameras[0]])

    def close_extras(self, **kwargs):
        for source in getattr(self, "sources", ()):
            source.close()
