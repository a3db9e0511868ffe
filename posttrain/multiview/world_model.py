"""The multi-view world model as the envs step it: six driving views imagined together, batched.

    wm = MultiViewWorldModel.load("assets/world_models/driving_multiview")  # a `worldsim posttrain multiview` run
    state = wm.start({cam: uint8 (N, T, H, W, 3)}, None, {"agent_pos": (N, 4), "environment_state": (N, 20)}, seeds)
    state, frames, extras = wm.step(state, actions)       # actions (N, 2): (steering, acceleration)
    frames["back"]                                        # uint8 (N, H, W, 3), generated with the other views
    extras["agent_pos"], extras["environment_state"], extras["reward"], extras["success"], extras["crashed"]

The common world-model interface (posttrain/common/interface.py). The state holds the last
``context_frames`` latents of every view side by side in width (padded at the start by repeating
the first frame), the predicted low-dimensional state and the start x. A step generates the next
frame of every view in one pass per sampling step (``predict_next_views``), the state delta head
adds its predicted change to the state (yaw wrapped to [-pi, pi)), and the simulator's rules judge
the predicted state: a crash (``|y|`` beyond the road edge, past the road's end, or a nearest
moving car's box overlapping the ego's; parked cars are not in the state), success (``goal_distance``
metres past the start x, no crash), reward ``0.1`` per metre of progress along x minus
``0.1 * |lane offset|``, ``-10`` on a crash, ``+10`` on success.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from posttrain.common.actions import batch_actions
from posttrain.common.env_state import replace_envs
from posttrain.common.frames import to_uint8
from posttrain.common.latents import decode_views, encode_views
from posttrain.multiview.config import MultiViewTaskConfig, predict_config
from posttrain.multiview.model import MultiViewNetwork
from posttrain.multiview.predict import predict_next_views

# the simulator's rule on a state step: (before (N, D+E), after (N, D+E), start_x (N,)) -> reward, success, crashed
Rule = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class MultiViewState:
    """latents (N, C, K, h, V*w) views side by side; state (N, D + E) float32 agent_pos ++
    environment_state; start_x (N,) float64; one torch.Generator per env; steps (N,)."""

    latents: torch.Tensor
    state: torch.Tensor
    start_x: torch.Tensor
    generators: list = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_envs(self) -> int:
        return self.latents.shape[0]

    def replace(self, indices: Sequence[int], other: "MultiViewState") -> "MultiViewState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        return replace_envs(self, indices, other, ("latents", "state", "start_x"))


class MultiViewWorldModel:
    """A trained ``MultiViewNetwork`` (dynamics and state head), its codec and config: see the module docstring."""

    def __init__(self, network: MultiViewNetwork, cfg: MultiViewTaskConfig, rule: Rule, predict=None):
        from posttrain.common.codec import load_codec

        self.network, self.cfg = network, cfg
        self.predict_cfg = predict or predict_config(cfg)
        self.codec = load_codec(cfg.tokenizer)
        self.sim = cfg.sim
        self.cameras = list(self.sim["cameras"])
        self.scale = float(cfg.latent_scale)
        self.context_frames = int(cfg.context_frames)
        self.rule = rule
        self.action_low = np.asarray(self.sim["action_low"], np.float32)
        self.action_high = np.asarray(self.sim["action_high"], np.float32)

    @classmethod
    def load(cls, path: str, predictor: Optional[str] = None, sample_steps: Optional[int] = None,
             sampler: Optional[str] = None, ema: bool = False, rule: Optional[Rule] = None
             ) -> "MultiViewWorldModel":
        """A run or checkpoint folder; ``predictor`` is checked against the one it was trained as. ``rule``
        judges predicted state (the env passes ``envs.driving_rules.DrivingOutcome``)."""
        if rule is None:
            raise ValueError("a multi-view world model judges predicted state with the simulator's rule: pass "
                             "rule=envs.driving_rules.DrivingOutcome(goal_distance, agent_dim)")
        from posttrain.multiview.checkpoint import load_multiview

        network, cfg = load_multiview(str(path), ema=ema)
        if predictor is not None and predictor != cfg.predictor:
            raise ValueError(f"{path} was trained as predictor={cfg.predictor!r}, not {predictor!r}")
        overrides = {k: v for k, v in (("steps", sample_steps), ("sampler", sampler)) if v is not None}
        return cls(network, cfg, rule, dataclasses.replace(predict_config(cfg), **overrides))

    # -------------------------------------------------------- the contract

    @torch.no_grad()
    def start(self, context_frames: dict, context_actions=None, context_state: Optional[dict] = None,
              seeds: Optional[Sequence[Optional[int]]] = None) -> MultiViewState:
        views = self._check_frames(context_frames)  # V x (N, T, H, W, 3)
        n, t = views[0].shape[:2]
        if context_state is None:
            raise ValueError("context_state must give agent_pos and environment_state of the current frame")
        keep = [max(0, t - self.context_frames + i) for i in range(self.context_frames)]  # padded at 0
        encoded = {u: self.encode({c: v[:, u] for c, v in zip(self.cameras, views)}) for u in sorted(set(keep))}
        latents = torch.stack([encoded[u] for u in keep], dim=2)  # (N, C, K, h, V*w)
        agent = np.asarray(context_state["agent_pos"])
        state = np.concatenate([agent, np.asarray(context_state["environment_state"])], axis=1).astype(np.float32)
        if state.shape != (n, self.sim["agent_dim"] + self.sim["env_dim"]):
            raise ValueError(f"context_state must be agent_pos (N, {self.sim['agent_dim']}) and environment_state "
                             f"(N, {self.sim['env_dim']}) for N={n}, got {state.shape[1]} values per env")
        seeds = list(seeds) if seeds is not None else [None] * n
        gens = [torch.Generator().manual_seed(int(s)) if s is not None else torch.Generator() for s in seeds]
        return MultiViewState(latents, torch.from_numpy(state), torch.from_numpy(np.asarray(agent, np.float64)[:, 0]),
                              gens, np.zeros(n, np.int64))

    @torch.no_grad()
    def step(self, state: MultiViewState, actions) -> tuple[MultiViewState, dict, dict]:
        """Every env's next views and state: (state, {camera: uint8 (N, H, W, 3)}, extras)."""
        a = batch_actions(actions, state.num_envs, self.action_low, self.action_high)  # (N, A)
        nxt = predict_next_views(self.network.dynamics, state.latents, a, self.predict_cfg, state.generators)
        low = self.network.state_head(state.latents[:, :, -1], nxt, state.state, a)
        low[:, 2] = torch.remainder(low[:, 2] + np.pi, 2 * np.pi) - np.pi  # yaw in [-pi, pi)
        latents = torch.cat([state.latents[:, :, 1:], nxt[:, :, None]], dim=2)
        new = dataclasses.replace(state, latents=latents, state=low, steps=state.steps + 1)
        reward, success, crashed = self._rules(state, new)
        d = self.sim["agent_dim"]
        after = low.numpy().astype(np.float32)
        extras = {"agent_pos": after[:, :d].copy(), "environment_state": after[:, d:].copy(), "reward": reward,
                  "success": success, "crashed": crashed}
        return new, self.decode(nxt), extras

    def judge_step(self, state: MultiViewState, actions=None, next_state: Optional[MultiViewState] = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(reward (N,), success (N,)) of the step from ``state`` to ``next_state``: the simulator's rules
        on the predicted state."""
        return self._rules(state, next_state)[:2]

    @torch.no_grad()
    def encode(self, frames: dict) -> torch.Tensor:
        """{camera: uint8 (N, H, W, 3)} -> model latents (N, C, h, V*w), cameras side by side."""
        return encode_views(self.codec, [np.ascontiguousarray(frames[c]) for c in self.cameras]) / self.scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> dict[str, np.ndarray]:
        """(N, C, h, V*w) -> {camera: uint8 (N, H, W, 3)}."""
        pixels = decode_views(self.codec, latents * self.scale, len(self.cameras))
        return dict(zip(self.cameras, (to_uint8(f) for f in pixels.chunk(len(self.cameras), dim=-1))))

    # -------------------------------------------------------- rules and checks

    def _rules(self, before: MultiViewState, after: MultiViewState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reward float32, success bool, crashed bool), each (N,): the simulator's rule on predicted state."""
        old, new = before.state.numpy().astype(np.float32), after.state.numpy().astype(np.float32)
        return self.rule(old, new, after.start_x.numpy())

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
        return views
