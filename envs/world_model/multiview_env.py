"""worldsim/DrivingWorldModel-v0: the six-camera driving scene imagined by a multi-view world model.

    import gymnasium as gym, envs
    env = gym.make("worldsim/DrivingWorldModel-v0")          # the default model in assets/
    obs, info = env.reset(seed=0)       # the simulator's own first frames and state for seed 0
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    obs["pixels"]["back"]               # uint8 (64, 64, 3), generated with the other five views
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from envs.arguments import named_arguments
from envs.contract import image_hw, observation_space, validate_action
from envs.driving_rules import GOAL_DISTANCE, DrivingOutcome
from envs.simulators import world_model_env
from envs.world_model.resets import make_reset_source, start_one

ENV_ID = "worldsim/DrivingWorldModel-v0"
MAKE_DEFAULT = ("python -m posttrain.multiview.reprojection_train data=DATA out=RUN, then "
                "python -m posttrain.multiview.reprojection_export --run RUN --out FOLDER "
                "(see assets/world_models/driving_reprojection/README.md)")
MODEL_SEED_HIGH = 2**62


def default_checkpoint() -> Path:
    from assets import ROOT

    path = ROOT / world_model_env(ENV_ID).default_model
    if not (path / "model.safetensors").is_file():
        raise ValueError(f"no default multi-view world model at {path}; pass checkpoint=FOLDER or make one: "
                         f"{MAKE_DEFAULT}")
    return path


@named_arguments
class MultiViewWorldModelEnv(gym.Env):
    """
    ## Description
    A multi-view world model (``worldsim posttrain multiview``: a DiT over all six camera views
    folded into one token sequence, with a learned view embedding and joint attention across
    views) imitating ``worldsim/DrivingMultiView-v0``. Each ``step`` generates the next frame of
    every view in one pass per sampling step, conditioned on the last frames of every view and
    on the ego action. After ``reset`` the simulator is never stepped, read or queried. The env
    only converts observations and actions; the stepping and the rules are
    ``posttrain.multiview.world_model.MultiViewWorldModel``'s.

    It also steps the driving reprojection model (``posttrain.multiview.reprojection_world_model``,
    a folder ``posttrain/multiview/reprojection_export.py`` writes): the rig's first views lifted
    into one surface (meshes, or points in older folders) by the depth the simulator renders at
    reset, seen from where the learned ego motion has carried the car, the holes painted by a
    U-Net across the six views together; the other cars carried at their observed velocity. It samples nothing (``predictor``/``sample_steps``/``sampler``/``ema``
    must be unset) and has a render switch: ``reset(options={"render": False})`` steps the state
    without drawing views (blank frames), as ``worldsim eval`` does for policies that read no pixels.

    ## Action Space
    The simulator's ``Box(-1, 1, (2,), float32)``: ``(steering, acceleration)``. Bad actions
    raise a ValueError naming what was expected.

    ## Observation Space
    Exactly the simulator's for the cameras and image size the model was trained on:
    ``Dict(pixels=Dict({camera: Box(0, 255, (H, W, 3), uint8)}), agent_pos=Box(4,),
    environment_state=Box(20,))``. ``agent_pos`` (x, y, yaw, speed) and ``environment_state``
    are integrated from predicted state: the model's state head reads the latents of all views
    before and after the step, the current predicted state and the action, and predicts the
    change over the step, which is added to the state (starting from the simulator's own state
    at reset); yaw is wrapped to (-pi, pi].

    ## Rewards
    The simulator's rule on predicted state: ``0.1`` per metre of predicted progress along x,
    minus ``0.1 * |predicted lane offset|``, ``-10`` on a predicted crash, ``+10`` on success.

    ## Starting State
    ``reset(seed=s)`` takes the simulator's initial frames and state for seed ``s``, live from
    the simulator (``envs.world_model.resets``); the first observation is exactly the
    simulator's, the context is that frame repeated, and sampling noise is seeded from ``s``.

    ## Episode End
    ``info["is_success"]``: the predicted x is ``goal_distance`` metres past the start x and no
    crash was predicted (the simulator's rule on predicted state). Terminated on success, on a
    predicted crash (predicted ``|y|`` beyond the road edge, or a predicted nearest moving car's
    box overlapping the ego's) or when the road ends; parked cars are not in the state, so a
    crash into one goes unjudged. Truncated after ``max_episode_steps`` (150).

    ## Arguments
    ``checkpoint`` (a ``worldsim posttrain multiview`` run or checkpoint folder, or a driving
    reprojection folder; None: the default in ``assets/world_models/driving_reprojection``; the
    multi-view DiT is ``assets/world_models/driving_multiview``), ``predictor`` (``"diffusion"`` or
    ``"deterministic"``; checked against the checkpoint), ``sample_steps``, ``sampler``,
    ``cameras``, ``image_size`` and ``env_id`` (checked against the checkpoint), ``goal_distance``,
    ``ema`` (load the EMA weights of a run), ``render_mode`` (``"rgb_array"``: the front view).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, predictor=None, sample_steps=None, sampler=None, cameras=None,
                 image_size=None, goal_distance: float = GOAL_DISTANCE, ema: bool = False, env_id: str | None = None,
                 render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        path = str(checkpoint) if checkpoint is not None else str(default_checkpoint())
        self.model = load_driving_model(path, DrivingOutcome(goal_distance), predictor=predictor,
                                        sample_steps=sample_steps, sampler=sampler, ema=ema)
        self.sim = self.model.sim
        check_expected(self.sim, path, cameras, image_size)
        if env_id is not None and env_id != self.sim["env_id"]:
            raise ValueError(f"{path} imitates {self.sim['env_id']}, not env_id={env_id!r}")
        self.cameras = list(self.model.cameras)
        self.observation_space = observation_space(self.cameras, self.sim["height"], self.sim["width"],
                                                   self.sim["agent_dim"], self.sim["env_dim"])
        low, high = (np.asarray(self.sim[k], np.float32) for k in ("action_low", "action_high"))
        self.action_space = gym.spaces.Box(low, high, low.shape, np.float32)
        self.goal_distance, self.render_mode = float(goal_distance), render_mode
        self.source = make_reset_source(self.sim, "sim", depth=getattr(self.model, "needs_depth", False))
        self.state = self._obs = None
        self._render = True

    # ------------------------------------------------------------ gym API

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        from envs.world_model.session import render_option

        self._render = render_option(options, self.model)
        start = self.source.initial(seed, self.np_random)
        model_seed = int(self.np_random.integers(MODEL_SEED_HIGH))
        self.state, self._obs = start_one(self.model, start, model_seed)
        return self._obs, {"is_success": bool(start.is_success)}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = validate_action(action, self.action_space)
        render = {} if self._render else {"render": False}     # only a model with a render switch gets False
        self.state, frames, extras = self.model.step(self.state, a[None], **render)
        self._obs = {"pixels": {c: f[0] for c, f in frames.items()}, "agent_pos": extras["agent_pos"][0],
                     "environment_state": extras["environment_state"][0]}
        success = bool(extras["success"][0])
        terminated = bool(extras["crashed"][0]) or success
        return self._obs, float(extras["reward"][0]), terminated, False, {"is_success": success}

    def render(self):
        if self.render_mode is None:
            return None
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return self._obs["pixels"][self.cameras[0]]

    def close(self):
        self.source.close()


def load_driving_model(path: str, rule, **dit_args):
    """The driving model in ``path`` by the architecture its config names: the reprojection model
    (deterministic, no sampler: ``dit_args`` must be unset) or the multi-view DiT."""
    from worldsim.io.checkpoints import read_config

    from posttrain.multiview.reprojection_config import ARCHITECTURE as REPROJECTION

    if read_config(path).get("architecture") == REPROJECTION:
        given = {k: v for k, v in dit_args.items() if v not in (None, False)}
        if given:
            raise ValueError(f"{path} is a driving reprojection model: it samples nothing, so {given} do not "
                             f"apply; leave them unset")
        from posttrain.multiview.reprojection_world_model import DrivingReprojectionWorldModel

        return DrivingReprojectionWorldModel.load(path, rule=rule)
    from posttrain.multiview.world_model import MultiViewWorldModel

    return MultiViewWorldModel.load(path, rule=rule, **dit_args)


def check_expected(sim: dict, path: str, cameras=None, image_size=None) -> None:
    """A camera set or image size the checkpoint was not trained for is a clear error."""
    trained = (f"{path} was trained for {sim['env_id']} with {len(sim['cameras'])} views {list(sim['cameras'])} "
               f"at {sim['height']}x{sim['width']}")
    if cameras is not None:
        asked = [cameras] if isinstance(cameras, str) else list(cameras)
        if sorted(asked) != sorted(sim["cameras"]):
            raise ValueError(f"{trained}; cameras={asked} ({len(asked)} views) were asked for: the view count "
                             f"and cameras must be the ones it was trained for")
    if image_size is not None and image_hw(image_size) != (sim["height"], sim["width"]):
        raise ValueError(f"{trained}; image_size={image_size!r} was asked for")
