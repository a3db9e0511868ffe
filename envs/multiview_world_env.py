"""worldsim/DrivingWorldModel-v0: the six-camera driving scene imagined by a multi-view world model.

    import gymnasium as gym, envs
    env = gym.make("worldsim/DrivingWorldModel-v0")          # the default model in assets/
    obs, info = env.reset(seed=0)       # the simulator's own first frames and state for seed 0
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    obs["pixels"]["back"]               # uint8 (32, 32, 3), generated with the other five views
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from envs.contract import image_hw, observation_space, validate_action
from envs.simulators import world_model_env
from envs.world_model.resets import make_reset_source

ENV_ID = "worldsim/DrivingWorldModel-v0"
MAKE_DEFAULT = ("worldsim posttrain multiview --base '' --data DATA --out RUN, then copy the checkpoint "
                "(see assets/world_models/driving_multiview/README.md)")
MODEL_SEED_HIGH = 2**62
GOAL_DISTANCE = 80.0


def default_checkpoint() -> Path:
    from assets import ROOT

    path = ROOT / world_model_env(ENV_ID).default_model
    if not (path / "model.safetensors").is_file():
        raise ValueError(f"no default multi-view world model at {path}; pass checkpoint=FOLDER or make one: "
                         f"{MAKE_DEFAULT}")
    return path


class MultiViewWorldModelEnv(gym.Env):
    """
    ## Description
    A multi-view world model (``worldsim posttrain multiview``: a DiT over all six camera views
    folded into one token sequence, with a learned view embedding and joint attention across
    views) imitating ``worldsim/DrivingMultiView-v0``. Each ``step`` generates the next frame of
    every view in one pass per sampling step, conditioned on the last frames of every view and
    on the ego action. After ``reset`` the simulator is never stepped, read or queried.

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
    ``checkpoint`` (a ``worldsim posttrain multiview`` run or checkpoint folder; None: the
    default in ``assets/world_models/driving_multiview``), ``predictor`` (``"diffusion"`` or
    ``"deterministic"``; checked against the checkpoint), ``sample_steps``, ``sampler``,
    ``cameras`` and ``image_size`` (checked against the checkpoint), ``goal_distance``,
    ``ema`` (load the EMA weights of a run), ``render_mode`` (``"rgb_array"``: the front view).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, checkpoint=None, *, predictor=None, sample_steps=None, sampler=None, cameras=None,
                 image_size=None, goal_distance: float = GOAL_DISTANCE, ema: bool = False,
                 render_mode: str | None = "rgb_array"):
        import dataclasses

        from posttrain.multiview.checkpoint import load_multiview
        from posttrain.multiview.config import predict_config

        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: 'rgb_array' or None")
        path = str(checkpoint) if checkpoint is not None else str(default_checkpoint())
        self.model, self.cfg = load_multiview(path, ema=ema)
        self.sim = self.cfg.sim
        check_expected(self.sim, path, cameras, image_size)
        if predictor is not None and predictor != self.cfg.predictor:
            raise ValueError(f"{path} was trained as predictor={self.cfg.predictor!r}, not {predictor!r}")
        overrides = {k: v for k, v in (("steps", sample_steps), ("sampler", sampler)) if v is not None}
        self.predict_cfg = dataclasses.replace(predict_config(self.cfg), **overrides)
        self.cameras = list(self.sim["cameras"])
        self.observation_space = observation_space(self.cameras, self.sim["height"], self.sim["width"],
                                                   self.sim["agent_dim"], self.sim["env_dim"])
        low, high = (np.asarray(self.sim[k], np.float32) for k in ("action_low", "action_high"))
        self.action_space = gym.spaces.Box(low, high, low.shape, np.float32)
        self.goal_distance, self.render_mode = float(goal_distance), render_mode
        self.source = make_reset_source(self.sim, "sim")
        self.latents = self.state = self.generator = self._obs = None

    # ------------------------------------------------------------ gym API

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        import torch

        super().reset(seed=seed)
        start = self.source.initial(seed, self.np_random)
        self.generator = torch.Generator().manual_seed(int(self.np_random.integers(MODEL_SEED_HIGH)))
        latents = self.encode({c: f[None] for c, f in start.frames.items()})  # (1, C, h, V*w)
        self.latents = latents[:, :, None].repeat(1, 1, self.cfg.context_frames, 1, 1)  # (1, C, K, h, V*w)
        state = np.concatenate([start.agent_pos, start.environment_state]).astype(np.float32)
        self.state = torch.from_numpy(state)[None]  # (1, D + E)
        self.start_x = float(start.agent_pos[0])
        self._obs = self._observation({c: np.array(f) for c, f in start.frames.items()})
        return self._obs, {"is_success": bool(start.is_success)}

    def step(self, action):
        if self.latents is None:
            raise RuntimeError("call reset() before step()")
        a = validate_action(action, self.action_space)
        before = self.state[0].numpy().copy()
        frames = self._advance(a)
        self._obs = self._observation(frames)
        crashed, success = self._judge()
        reward = 0.1 * (self._obs["agent_pos"][0] - before[0]) - 0.1 * abs(self._obs["environment_state"][18])
        reward += -10.0 if crashed else 10.0 if success else 0.0
        return self._obs, float(reward), bool(crashed or success), False, {"is_success": success}

    def render(self):
        if self.render_mode is None:
            return None
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return self._obs["pixels"][self.cameras[0]]

    def close(self):
        self.source.close()

    # ------------------------------------------------------------ the model

    def encode(self, frames: dict):
        """{camera: uint8 (N, H, W, 3)} -> model latents (N, C, h, V*w)."""
        from posttrain.common.latents import encode_views

        codec = self._codec()
        return encode_views(codec, [np.ascontiguousarray(frames[c]) for c in self.cameras]) / self.cfg.latent_scale

    def decode(self, latents) -> dict:
        """(N, C, h, V*w) -> {camera: uint8 (N, H, W, 3)}."""
        from posttrain.common.frames import to_uint8
        from posttrain.common.latents import decode_views

        pixels = decode_views(self._codec(), latents * self.cfg.latent_scale, len(self.cameras))
        return dict(zip(self.cameras, (to_uint8(f) for f in pixels.chunk(len(self.cameras), dim=-1))))

    def _codec(self):
        if not hasattr(self, "_codec_module"):
            from posttrain.common.codec import load_codec

            self._codec_module = load_codec(self.cfg.tokenizer)
        return self._codec_module

    def _advance(self, action: np.ndarray) -> dict:
        import torch

        from posttrain.multiview.predict import predict_next_views

        a = torch.from_numpy(action)[None]  # (1, A)
        with torch.no_grad():
            nxt = predict_next_views(self.model.dynamics, self.latents, a, self.predict_cfg, [self.generator])
            self.state = self.model.state_head(self.latents[:, :, -1], nxt, self.state, a)
        self.state[:, 2] = torch.remainder(self.state[:, 2] + np.pi, 2 * np.pi) - np.pi  # yaw in [-pi, pi)
        self.latents = torch.cat([self.latents[:, :, 1:], nxt[:, :, None]], dim=2)
        return {c: f[0] for c, f in self.decode(nxt).items()}

    def _observation(self, frames: dict) -> dict:
        state = self.state[0].numpy().astype(np.float32)
        d = self.sim["agent_dim"]
        return {"pixels": frames, "agent_pos": state[:d].copy(), "environment_state": state[d:].copy()}

    def _judge(self) -> tuple[bool, bool]:
        """(crashed, success) by the simulator's rules applied to the predicted state."""
        from envs.driving_ego import boxes_overlap
        from envs.driving_layout import CAR_HALF, ROAD_EDGE, X_MAX

        x, y, yaw = (float(v) for v in self._obs["agent_pos"][:3])
        cars = self._obs["environment_state"][:18].reshape(6, 3)
        near = [(float(dx), float(dy), 0.0) for dx, dy, _ in cars if abs(dx) < 6 and abs(dy) < 6]
        crashed = abs(y) > ROAD_EDGE or x > X_MAX or any(boxes_overlap((0.0, 0.0, yaw), p, CAR_HALF) for p in near)
        return crashed, bool(not crashed and x - self.start_x >= self.goal_distance)


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
