"""worldsim/WorldModel-v0: a learned world model stepped as the simulator it imitates.

    import gymnasium as gym, envs
    env = gym.make("worldsim/WorldModel-v0", checkpoint="runs/wm")    # no checkpoint: the default
    obs, info = env.reset(seed=0)          # the simulator's own first frame and state for seed 0
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    envs_n = gym.make_vec("worldsim/WorldModel-v0", num_envs=16, checkpoint="runs/wm")  # one batched pass
"""

from __future__ import annotations

import gymnasium as gym

from envs.arguments import named_arguments
from envs.contract import validate_action
from envs.world_model.resets import make_reset_source, start_one
from envs.world_model.session import episode_steps, load_for_env, observation, render_option, spaces

MODEL_SEED_HIGH = 2**62


@named_arguments
class WorldModelEnv(gym.Env):
    """
    ## Description
    A world model (posttrain.action.world_model.WorldModel: tokenizer latents, an action-conditioned
    next-frame predictor, a state head and success/reward judges) imitating the simulator it was
    trained on. A policy cannot tell it from that simulator by its interface: same spaces, keys,
    step 5-tuple and seeding. Every observation key is generated: frames decoded from predicted
    latents, ``agent_pos``/``environment_state`` from the state head, reward and success from
    the judges. After ``reset`` the simulator is never stepped, read or queried.

    ## Action Space
    The simulator's own ``Box`` (recorded in the checkpoint). NaN/inf, out-of-bounds or
    wrong-shaped actions raise a ValueError naming what was expected.

    ## Observation Space
    The simulator's: ``Dict(pixels=Dict({camera: Box(0, 255, (H, W, 3), uint8)}),
    agent_pos=Box(D,), environment_state=Box(E,))`` for the cameras and image size the world
    model was trained on.

    ## Rewards
    ``judge="state"`` (the default for simulators with a rule, envs/rules.py): the
    simulator's own reward and success rule applied to the predicted state after the step (for
    TabletopPush: block within 5 cm of the goal). ``judge="learned"``: the learned judges' estimates
    from the frame, state and action of the step.

    ## Starting State
    ``reset(seed=s)`` starts from the simulator's initial frames and state for seed ``s``: taken
    live from the simulator (``reset_source="sim"``, the default) or from the dataset episode
    generated with that seed (``reset_source="dataset"``). The first observation is exactly the
    simulator's; model sampling noise is seeded from ``s`` too.

    ## Episode End
    Terminated when the success judge fires and the simulator terminates on success;
    truncated after ``max_episode_steps`` (``gym.make``'s argument; by default the simulator's: 100
    steps for TabletopPush, 150 for Meta-World).

    ## Arguments
    ``checkpoint`` (a world-model folder; None: the default TabletopPush model in ``assets/``),
    ``judge`` (``"state"`` or ``"learned"``, see Rewards),
    ``predictor`` (one of the checkpoint's predictors, e.g. ``"deterministic"`` or
    ``"diffusion"``), ``sample_steps``/``sampler`` (diffusion only), ``reencode`` (decode and
    re-encode each frame instead of carrying latents), ``reset_source`` (``"sim"`` or
    ``"dataset"``), ``dataset`` (for ``"dataset"``; default: the training data), ``env_id``,
    ``cameras``, ``image_size`` (optional: checked against the checkpoint), ``render_mode``
    (``"rgb_array"``: the first camera's frame).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, predictor=None, sample_steps=None, sampler=None, reencode=False,
                 judge=None, reset_source="sim", dataset=None, env_id=None, cameras=None, image_size=None,
                 render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        self.model = load_for_env(checkpoint, predictor=predictor, sample_steps=sample_steps, sampler=sampler,
                                  reencode=reencode, judge=judge, env_id=env_id, cameras=cameras, image_size=image_size)
        self.observation_space, self.action_space = spaces(self.model)
        self.metadata = {**self.metadata, "render_fps": self.model.sim["render_fps"]}
        self.render_mode = render_mode
        self.terminate_on_success = bool(self.model.sim["terminate_on_success"])
        self.source = make_reset_source(self.model.sim, reset_source, dataset,
                                        self.model.config.get("provenance", {}).get("data"))
        self.state = None
        self.render_frames = True
        self._obs = None
        self._elapsed = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.render_frames = render_option(options, self.model)
        start = self.source.initial(seed, self.np_random)
        model_seed = int(self.np_random.integers(MODEL_SEED_HIGH))
        self.state, self._obs = start_one(self.model, start, model_seed)
        self._elapsed = 0
        return self._obs, {"is_success": bool(start.is_success)}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = validate_action(action, self.action_space)
        switch = {} if self.render_frames else {"render": False}
        self.state, frames, extras = self.model.step(self.state, a[None], **switch)
        self._obs = observation(frames, extras["agent_pos"], extras["environment_state"], 0)
        success = bool(extras["success"][0])
        terminated = success and self.terminate_on_success
        self._elapsed += 1
        truncated = self._elapsed >= episode_steps(self)
        return self._obs, float(extras["reward"][0]), terminated, truncated, {"is_success": success}

    def render(self):
        if self.render_mode is None:
            return None
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return self._obs["pixels"][self.model.cameras[0]]

    def close(self):
        self.source.close()
