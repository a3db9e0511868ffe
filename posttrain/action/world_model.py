"""The world model as a batched, stateful simulator of a simulator (see docs/design.md).

    wm = WorldModel.load("runs/wm")                        # a folder from posttrain.action.export
    state = wm.start(context_frames, context_actions, context_state, seeds=[0, 1])
    state, frames, extras = wm.step(state, actions)        # actions (N, A) float32
    frames["top"]                                          # uint8 (N, H, W, 3)
    extras["agent_pos"], extras["environment_state"]       # (N, D), (N, E) from the state head
    extras["reward"], extras["success"]                    # (N,) float32, bool from the judge
    state = state.replace([1], wm.start(...))              # restart env 1 only

``context_frames`` is ``{camera: uint8 (N, T, H, W, 3)}`` (T >= 1 frames of history, the last
is the current one), ``context_actions`` (N, T-1, A) the actions between them (or None), and
``context_state`` ``{"agent_pos": (N, D), "environment_state": (N, E)}`` at the current frame.
A step predicts latent frame t+1 from the last ``context_frames`` latents and action t (one
forward of a deterministic predictor, or a few Euler/Heun steps of the action DiT), decodes it
per camera, reads the state head on it, and judges the step: ``judge="state"`` (the default where
the simulator has a rule, evaluation/judges/rules.py) applies the task's success and reward rule to
the predicted state after the step; ``judge="learned"`` asks the learned judges about frame t,
state t and action t. Latents are carried
between steps; decoded pixels are re-encoded only with ``reencode=True``. Env i's sampling noise
comes from its own generator, seeded in ``start``, so a batch gives each env what it gets alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from posttrain.action.deterministic import ConvPredictor, ConvPredictorConfig
from posttrain.action.model import ActionDiT, ActionDiTConfig, ActionWorldModel
from posttrain.action.predict import predict_next
from posttrain.action.state_head import StateHead, StateHeadConfig
from posttrain.common.actions import batch_actions
from posttrain.common.bundle import prefixed, read_bundle
from posttrain.common.env_state import replace_envs
from posttrain.common.frames import to_uint8
from posttrain.common.latents import decode_views, encode_views
from posttrain.common.predict import PredictConfig
from worldsim.config import structured
from worldsim.io import check_matches, load_tensor_state


@dataclass
class WorldModelState:
    """Per-env tensors, batched along dim 0: latents (N, C, K, h, V*w), agent_pos (N, D),
    environment_state (N, E); one torch.Generator per env; steps (N,) taken since start."""

    latents: torch.Tensor
    agent_pos: torch.Tensor
    environment_state: torch.Tensor
    generators: list = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_envs(self) -> int:
        return self.latents.shape[0]

    def replace(self, indices: Sequence[int], other: "WorldModelState") -> "WorldModelState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        return replace_envs(self, indices, other, ("latents", "agent_pos", "environment_state"))


class WorldModel:
    def __init__(self, config: dict, tokenizer, dynamics: ActionWorldModel, predict: PredictConfig, judges,
                 reencode: bool = False, judge: Optional[str] = None):
        from evaluation.judges.rules import resolve_judge, state_rule

        self.config, self.tokenizer, self.dynamics, self.predict_cfg = config, tokenizer, dynamics, predict
        self.judges, self.reencode = judges, reencode
        self.sim = config["sim"]
        self.judge = resolve_judge(judge, self.sim["env_id"])
        self.rule = state_rule(self.sim["env_id"], self.sim.get("env_kwargs")) if self.judge == "state" else None
        self.cameras = list(self.sim["cameras"])
        self.scale = float(config["latent_scale"])
        self.context_frames = int(config["context_frames"])
        self.action_low = np.asarray(self.sim["action_low"], np.float32)
        self.action_high = np.asarray(self.sim["action_high"], np.float32)

    # -------------------------------------------------------- loading

    @classmethod
    def load(cls, path: str, predictor: Optional[str] = None, sample_steps: Optional[int] = None,
             sampler: Optional[str] = None, reencode: bool = False, judge: Optional[str] = None) -> "WorldModel":
        """Load a world-model folder; ``predictor`` picks one of its predictors (default: the folder's),
        ``judge`` "state" or "learned" (default: "state" where the simulator has a rule)."""
        from evaluation.judges.model import JudgeConfig, Judges
        from posttrain.common.codec import codec_from_config

        config, tensors, _ = read_bundle(path)
        name = predictor or config["default_predictor"]
        if name not in config["predictors"]:
            raise ValueError(f"{path} has no predictor {name!r}; it has {sorted(config['predictors'])}")
        piece = config["predictors"][name]
        tokenizer = _loaded(codec_from_config(config["tokenizer"]), prefixed(tensors, "tokenizer."), path)
        dynamics = _loaded(build_dynamics(piece), prefixed(tensors, f"predictors.{name}."), path)
        judges = _loaded(Judges(structured(JudgeConfig, config["judges"])), prefixed(tensors, "judges."), path)
        predict = structured(PredictConfig, piece["predict"])
        overrides = {k: v for k, v in (("steps", sample_steps), ("sampler", sampler)) if v is not None}
        predict = dataclasses.replace(predict, **overrides)
        return cls(config, tokenizer, dynamics, predict, judges, reencode, judge)

    # -------------------------------------------------------- the contract

    @torch.no_grad()
    def start(self, context_frames: dict, context_actions=None, context_state: Optional[dict] = None,
              seeds: Optional[Sequence[Optional[int]]] = None) -> WorldModelState:
        """A state for N envs from their recent frames (see the module docstring)."""
        views = self._check_frames(context_frames)  # V x (N, T, H, W, 3)
        n, t = views[0].shape[:2]
        if context_actions is not None and np.asarray(context_actions).shape[:2] != (n, t - 1):
            raise ValueError(f"context_actions must be (N, T-1, A) = ({n}, {t - 1}, A), "
                             f"got {np.asarray(context_actions).shape}")
        keep = [max(0, t - self.context_frames + i) for i in range(self.context_frames)]  # K indices, padded at 0
        flat = [v[:, keep].reshape(n * len(keep), *v.shape[2:]) for v in views]  # V x (N*K, H, W, 3)
        latents = encode_views(self.tokenizer, flat) / self.scale  # (N*K, C, h, V*w)
        latents = latents.reshape(n, len(keep), *latents.shape[1:]).transpose(1, 2).contiguous()  # (N, C, K, h, w)
        agent, env = self._check_state(context_state, n)
        seeds = list(seeds) if seeds is not None else [None] * n
        generators = [torch.Generator().manual_seed(int(s)) if s is not None else torch.Generator() for s in seeds]
        return WorldModelState(latents, agent, env, generators, np.zeros(n, np.int64))

    @torch.no_grad()
    def step(self, state: WorldModelState, actions) -> tuple[WorldModelState, dict, dict]:
        """Advance every env by one action: (new state, {camera: uint8 (N, H, W, 3)}, extras)."""
        action = batch_actions(actions, state.num_envs, self.action_low, self.action_high)  # (N, A)
        nxt = predict_next(self.dynamics.dynamics, state.latents, action, self.predict_cfg, state.generators)
        agent, env = self.dynamics.state_head(nxt)
        reward, success = self.judge_step(state.latents[:, :, -1], state.agent_pos, state.environment_state, action,
                                          agent, env)
        frames = self.decode(nxt)
        if self.reencode:
            nxt = self.encode(frames)
        latents = torch.cat([state.latents[:, :, 1:], nxt[:, :, None]], dim=2)
        new = dataclasses.replace(state, latents=latents, agent_pos=agent, environment_state=env,
                                  steps=state.steps + 1)
        extras = {"agent_pos": agent.numpy().astype(np.float32), "environment_state": env.numpy().astype(np.float32),
                  "reward": np.asarray(reward, np.float32), "success": np.asarray(success, bool)}
        return new, frames, extras

    @torch.no_grad()
    def judge_step(self, latent: torch.Tensor, agent: torch.Tensor, env: torch.Tensor, action: torch.Tensor,
                   agent_next: torch.Tensor, env_next: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(reward (N,), success (N,)) of a step from latent, state and action at t and the state at t+1:
        the task's rule on the state after the step, or the learned judges on the step itself."""
        if self.rule is not None:
            return self.rule(agent_next.numpy(), env_next.numpy())
        logit, reward = self.judges(latent, torch.cat([agent, env], -1), action)
        return reward.numpy(), self.judges.success(logit).numpy()

    @torch.no_grad()
    def encode(self, frames: dict) -> torch.Tensor:
        """{camera: uint8 (N, H, W, 3)} -> model latents (N, C, h, V*w), cameras side by side."""
        return encode_views(self.tokenizer, [frames[c] for c in self.cameras]) / self.scale

    def decode(self, latents: torch.Tensor) -> dict[str, np.ndarray]:
        """(N, C, h, V*w) model latents -> {camera: uint8 (N, H, W, 3)}."""
        frames = decode_views(self.tokenizer, latents * self.scale, len(self.cameras))  # (N, 3, H, V*W)
        return dict(zip(self.cameras, (to_uint8(f) for f in frames.chunk(len(self.cameras), dim=-1))))

    def perception(self):
        """Batched reading of frames the model did not make (posttrain.action.perception)."""
        from posttrain.action.perception import LatentPerception

        return LatentPerception(self)

    # -------------------------------------------------------- input checks

    def _check_frames(self, frames: dict) -> list[np.ndarray]:
        if not isinstance(frames, dict) or set(frames) != set(self.cameras):
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"context_frames must be {{camera: uint8 (N, T, H, W, 3)}} for cameras {self.cameras}, "
                             f"got {got}")
        views = [np.asarray(frames[c]) for c in self.cameras]
        want = (self.sim["height"], self.sim["width"], 3)
        for cam, v in zip(self.cameras, views):
            if v.dtype != np.uint8 or v.ndim != 5 or v.shape[2:] != want or v.shape[1] < 1:
                raise ValueError(f"context_frames[{cam!r}] must be uint8 (N, T>=1, {want[0]}, {want[1]}, 3), "
                                 f"got {v.dtype} {v.shape}")
        if len({v.shape[:2] for v in views}) != 1:
            raise ValueError(f"cameras disagree on (N, T): {[v.shape[:2] for v in views]}")
        return views

    def _check_state(self, state: Optional[dict], n: int) -> tuple[torch.Tensor, torch.Tensor]:
        dims = {"agent_pos": self.sim["agent_dim"], "environment_state": self.sim["env_dim"]}
        if state is None:
            raise ValueError(f"context_state must give {sorted(dims)} of the current frame")
        out = []
        for key, dim in dims.items():
            value = np.asarray(state.get(key), np.float32)
            if value.shape != (n, dim) or not np.all(np.isfinite(value)):
                raise ValueError(f"context_state[{key!r}] must be finite float (N, {dim}) = ({n}, {dim}), "
                                 f"got {value.shape}")
            out.append(torch.from_numpy(value.copy()))
        return out[0], out[1]


def build_dynamics(piece: dict) -> ActionWorldModel:
    """The network of one predictor entry of a world-model config (megatron set up for a DiT)."""
    head = StateHead(structured(StateHeadConfig, piece["state_head"]))
    if piece["network"] == "conv":
        return ActionWorldModel(ConvPredictor(structured(ConvPredictorConfig, piece["net"])), head)
    from posttrain.common.runtime import ensure_megatron

    ensure_megatron()
    return ActionWorldModel(ActionDiT(structured(ActionDiTConfig, piece["net"])), head)


def _loaded(module: torch.nn.Module, tensors: dict, path: str) -> torch.nn.Module:
    from worldsim.io import tensor_state

    check_matches(f"{path} ({type(module).__name__})", tensors, tensor_state(module))
    load_tensor_state(module, tensors)
    return module.eval().requires_grad_(False)
