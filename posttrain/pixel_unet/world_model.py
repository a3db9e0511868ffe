"""The pixel world model as the envs step it: batched, stateful, frames in and frames out.

    wm = PixelWorldModel.load("assets/world_models/tabletop_push")      # a folder from export.py
    state = wm.start({"top": uint8 (N, T, H, W, 3)}, None, {"agent_pos": ..., "environment_state": ...}, seeds)
    state, frames, extras = wm.step(state, actions)                      # actions (N, A)
    frames["top"]                        # uint8 (N, H, W, 3): the predicted next frame
    extras["agent_pos"], extras["environment_state"], extras["reward"], extras["success"]

The state holds the last ``context`` frames (padded at the start by repeating the first one,
with zero actions between, as in training) and the actions between them. A step runs the
predictor once (deterministic) or ``sample_steps`` Euler steps (diffusion), rounds the frame to
uint8 (what the policy sees is what the model continues from), and reads the state from it
with the state reader; the goal never moves, so it is read once, from the first frame. Reward
and success are the task's own rule on that state (``judge="state"``). A grounded folder (one
with ``dynamics``, see ``pixel_unet.grounding``) steps the simulator's physical state with its
learned dynamics instead, gives the policy that state, and paints each frame from layout maps
of it; the reader then only starts the episode. Two stepping settings
live with each predictor in the folder's config: ``deadband`` (pixels whose predicted change is
smaller keep their value: the static scene cannot drift) and ``context_sigma`` (the context noise
level the network is told; 0: trust the context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from posttrain.common.actions import batch_actions
from posttrain.common.env_state import replace_envs
from posttrain.pixel_unet.config import EDMSettings, LatentDiTConfig, UNetConfig
from posttrain.pixel_unet.frames import to_float, to_uint8
from posttrain.pixel_unet.predictors import make_predictor
from posttrain.pixel_unet.reader import ReaderConfig, StateReader

FAMILY = "pixel_unet"


@dataclass
class PixelState:
    """Per-env tensors batched on dim 0: frames (N, K, 3, H, W) in [-1, 1], actions (N, K-1, A),
    agent_pos (N, D), environment_state (N, E), anchor (N, 3, H, W) the first frame given to
    ``start``; one torch.Generator per env; steps (N,)."""

    frames: torch.Tensor
    actions: torch.Tensor
    agent_pos: torch.Tensor
    environment_state: torch.Tensor
    anchor: torch.Tensor
    generators: list = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sim_states: Optional[torch.Tensor] = None
    sim_actions: Optional[torch.Tensor] = None

    @property
    def num_envs(self) -> int:
        return self.frames.shape[0]

    def replace(self, indices: Sequence[int], other: "PixelState") -> "PixelState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        names = ("frames", "actions", "agent_pos", "environment_state", "anchor")
        return replace_envs(self, indices, other, names + ("sim_states", "sim_actions") * (self.sim_states is not None))


class PixelWorldModel:
    def __init__(self, config: dict, predictor: torch.nn.Module, reader: StateReader, sample_steps=None,
                 judge: Optional[str] = None, predictor_name: Optional[str] = None, grounding=None):
        from evaluation.judges.rules import state_rule

        self.config, self.predictor, self.reader, self.grounding = config, predictor, reader, grounding
        if (grounding is not None) != bool(predictor.net.cfg.layout):
            raise ValueError(f"predictor {predictor_name!r} {'takes' if predictor.net.cfg.layout else 'has no'} layout "
                             f"maps but the folder {'has no' if grounding is None else 'has'} state dynamics")
        self.predictor_name = predictor_name or config["default_predictor"]
        self.sim = config["sim"]
        self.cameras = list(self.sim["cameras"])
        if judge not in (None, "state"):
            raise ValueError(f"judge={judge!r}: a pixel world model judges with the task's rule on the state it "
                             f"reads (judge='state'); it has no learned judge")
        self.rule = state_rule(self.sim["env_id"], self.sim.get("env_kwargs"))
        if self.rule is None:
            raise ValueError(f"no success rule for {self.sim['env_id']} (evaluation/judges/rules.py)")
        self.context = int(predictor.net.cfg.context)
        self.sample_steps = sample_steps
        self.context_sigma = float(config["predictors"][self.predictor_name].get("context_sigma", 0.0))
        self.deadband = float(config["predictors"][self.predictor_name].get("deadband", 0.0))
        self.action_low = np.asarray(self.sim["action_low"], np.float32)
        self.action_high = np.asarray(self.sim["action_high"], np.float32)

    @classmethod
    def load(cls, path: str, predictor: Optional[str] = None, sample_steps: Optional[int] = None,
             sampler: Optional[str] = None, reencode: bool = False, judge: Optional[str] = None) -> "PixelWorldModel":
        from posttrain.common.bundle import read_bundle
        from worldsim.config import structured

        if reencode:
            raise ValueError("reencode=True applies to latent world models; a pixel world model carries frames")
        config, tensors, _ = read_bundle(path)
        name = predictor or config["default_predictor"]
        if name not in config["predictors"]:
            raise ValueError(f"{path} has no predictor {name!r}; it has {sorted(config['predictors'])}")
        check_sampling(config["predictors"][name]["kind"], sample_steps, sampler)
        net = build_predictor(config["predictors"][name])
        reader = StateReader(structured(ReaderConfig, config["reader"]))
        load_parts(path, tensors, ((net, f"predictors.{name}."), (reader, "reader.")))
        grounding = load_grounding(config, tensors, reader, path) if "dynamics" in config else None
        return cls(config, net, reader, sample_steps, judge, name, grounding)

    # -------------------------------------------------------- the contract

    @torch.no_grad()
    def start(self, context_frames: dict, context_actions=None, context_state: Optional[dict] = None,
              seeds: Optional[Sequence[Optional[int]]] = None) -> PixelState:
        frames = self._check_frames(context_frames)  # (N, T, 3, H, W)
        n, t = frames.shape[:2]
        acts = torch.zeros(n, t - 1, len(self.action_low)) if context_actions is None else \
            torch.as_tensor(np.asarray(context_actions, np.float32))
        if acts.shape[:2] != (n, t - 1):
            raise ValueError(f"context_actions must be (N, T-1, A) = ({n}, {t - 1}, A), got {tuple(acts.shape)}")
        keep = [max(0, t - self.context + i) for i in range(self.context)]  # padded by repeating frame 0
        acts = torch.cat([torch.zeros(n, self.context, acts.shape[2]), acts], dim=1)[:, -(self.context - 1):] \
            if self.context > 1 else acts[:, :0]
        xy = self.reader(frames[:, -1])  # (N, objects, 2)
        goal = self.reader(frames[:, 0])[:, 2] if t > 1 else xy[:, 2]
        agent, env = xy[:, 0], torch.cat([xy[:, 1], goal], dim=1)
        gens = [torch.Generator().manual_seed(int(s)) if s is not None else torch.Generator()
                for s in (list(seeds) if seeds is not None else [None] * n)]
        state = PixelState(frames[:, keep].contiguous(), acts.contiguous(), agent, env, frames[:, 0].contiguous(), gens,
                           np.zeros(n, np.int64))
        return self._ground(state, frames, xy, acts) if self.grounding is not None else state

    def _ground(self, state: PixelState, frames: torch.Tensor, xy: torch.Tensor, acts: torch.Tensor) -> PixelState:
        """Add the physical state history a grounded model steps (padded like the frames)."""
        g = self.grounding
        uv = self.reader.centroids(frames[:, -1])[0][:, g.block]
        before = self.reader(frames[:, -2]) if frames.shape[1] > 1 else None
        sim = g.start(frames[:, -1], xy, uv, before)
        state.sim_states = sim[:, None].repeat(1, g.context, 1)
        state.sim_actions = acts[:, acts.shape[1] - (g.context - 1):] if g.context > 1 else acts[:, :0]
        state.agent_pos, state.environment_state[:, :2] = sim[:, :2], sim[:, 2:4]
        return state

    @property
    def render_switch(self) -> bool:
        """Whether ``step(..., render=False)`` may skip the frames: only a grounded model, whose
        state and success never depend on them."""
        return self.grounding is not None

    @torch.no_grad()
    def step(self, state: PixelState, actions, render: bool = True) -> tuple[PixelState, dict, dict]:
        """One step of every env. ``render=False`` (grounded models only, for policies that read no
        pixels) steps the state alone: frames are zeros, as a simulator reset with render off gives."""
        action = batch_actions(actions, state.num_envs, self.action_low, self.action_high)  # (N, A)
        acts = torch.cat([state.actions, action[:, None]], dim=1)  # (N, K, A)
        if not render and not self.render_switch:
            raise ValueError("render=False needs a grounded world model (its state does not come from frames)")
        sim = sim_acts = layout = None
        if self.grounding is not None:
            sim_acts = torch.cat([state.sim_actions, action[:, None]], dim=1)
            sim, layout = self.grounding.advance(state.sim_states, sim_acts, maps=render)
        n, _, h, w = state.frames[:, -1].shape
        shown = self._next_frame(state, acts, sim, layout) if render else np.zeros((n, h, w, 3), np.uint8)
        nxt = to_float(shown)  # (N, 3, H, W): continue from exactly what the policy sees
        if sim is None:
            before = torch.stack([state.agent_pos, state.environment_state[:, :2], state.environment_state[:, 2:]], 1)
            xy = self.reader(nxt, before)  # (N, objects, 2)
            agent, block = xy[:, 0], xy[:, 1]
        else:
            agent, block = sim[:, :2], sim[:, 2:4]
        env = torch.cat([block, state.environment_state[:, 2:]], dim=1)
        reward, success = self.rule(agent.numpy(), env.numpy())
        new = PixelState(torch.cat([state.frames[:, 1:], nxt[:, None]], dim=1), acts[:, 1:], agent, env,
                         state.anchor, state.generators, state.steps + 1)
        if sim is not None:
            new.sim_states = torch.cat([state.sim_states[:, 1:], sim[:, None]], dim=1)
            new.sim_actions = sim_acts[:, 1:]
        extras = {"agent_pos": agent.numpy().astype(np.float32), "environment_state": env.numpy().astype(np.float32),
                  "reward": np.asarray(reward, np.float32), "success": np.asarray(success, bool)}
        return new, {self.cameras[0]: shown}, extras

    def _next_frame(self, state: PixelState, acts: torch.Tensor, sim, layout) -> np.ndarray:
        """The predicted next frames as the policy sees them: uint8 (N, H, W, 3)."""
        kwargs = {"steps": self.sample_steps} if self.predictor.diffusion else {}
        kwargs["context_sigma"] = self.context_sigma
        if layout is not None:
            kwargs["layout"] = layout
        context = torch.cat([state.anchor[:, None], state.frames], 1) if self.predictor.net.cfg.anchor else state.frames
        nxt = self.predictor.predict(context, acts, state.generators, **kwargs)
        nxt = self._deadband(state.frames[:, -1], nxt)
        if sim is not None:
            nxt = self.grounding.keep_static(state.frames[:, -1], nxt, state.sim_states[:, -1], layout)
        return to_uint8(nxt)

    def _deadband(self, last: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        """Pixels whose predicted change is below ``deadband`` (in [-1, 1] units, all channels) keep
        their last value, so tiny errors on the static scene cannot add up over a long rollout."""
        if self.deadband <= 0:
            return nxt
        moved = (nxt - last).abs().amax(dim=1, keepdim=True) >= self.deadband  # (N, 1, H, W)
        return torch.where(moved, nxt, last)

    def perception(self):
        from posttrain.pixel_unet.perception import PixelPerception

        return PixelPerception(self)

    # -------------------------------------------------------- input checks

    def _check_frames(self, frames: dict) -> torch.Tensor:
        if not isinstance(frames, dict) or set(frames) != set(self.cameras):
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"context_frames must be {{camera: uint8 (N, T, H, W, 3)}} for cameras {self.cameras}, "
                             f"got {got}")
        v = np.asarray(frames[self.cameras[0]])
        want = (self.sim["height"], self.sim["width"], 3)
        if v.dtype != np.uint8 or v.ndim != 5 or v.shape[2:] != want or v.shape[1] < 1:
            raise ValueError(f"context_frames[{self.cameras[0]!r}] must be uint8 (N, T>=1, {want[0]}, {want[1]}, 3), "
                             f"got {v.dtype} {v.shape}")
        return to_float(v)


def load_parts(path: str, tensors: dict, parts) -> None:
    """Load each ``(module, prefix)`` of ``parts`` from the folder's tensors (shapes checked), frozen."""
    from posttrain.common.bundle import prefixed
    from worldsim.io import check_matches, load_tensor_state, tensor_state

    for module, prefix in parts:
        part = prefixed(tensors, prefix)
        check_matches(f"{path} ({type(module).__name__})", part, tensor_state(module))
        load_tensor_state(module, part)
        module.eval().requires_grad_(False)


def load_grounding(config: dict, tensors: dict, reader: StateReader, path: str):
    """The state grounding of a folder with ``dynamics``: dynamics, yaw reader and layout."""
    from posttrain.pixel_unet.dynamics import DynamicsConfig, StateDynamics
    from posttrain.pixel_unet.grounding import StateGrounding
    from posttrain.pixel_unet.layout import Layout, LayoutConfig
    from posttrain.pixel_unet.yaw_reader import YawReader, YawReaderConfig
    from worldsim.config import structured

    dynamics = StateDynamics(structured(DynamicsConfig, config["dynamics"]["net"]))
    yaw_reader = YawReader(structured(YawReaderConfig, config["yaw_reader"]))
    load_parts(path, tensors, ((dynamics, "dynamics."), (yaw_reader, "yaw_reader.")))
    layout = Layout(structured(LayoutConfig, config["layout"]), reader)
    return StateGrounding(dynamics, yaw_reader, layout, reader.cfg.objects.index("block"),
                          1.0 / float(config["sim"].get("render_fps", 10)))


def build_predictor(piece: dict) -> torch.nn.Module:
    from worldsim.config import structured

    net_type = LatentDiTConfig if piece["kind"].startswith("latent_") else UNetConfig
    return make_predictor(piece["kind"], structured(net_type, piece["net"]), structured(EDMSettings, piece["edm"]))


def check_sampling(kind: str, sample_steps, sampler) -> None:
    if sample_steps is not None and (not isinstance(sample_steps, (int, np.integer)) or sample_steps < 1):
        raise ValueError(f"sample_steps={sample_steps!r}; need a positive int (1-3 Euler steps are typical)")
    if sampler not in (None, "euler"):
        raise ValueError(f"sampler={sampler!r}; the pixel world model samples with 'euler'")
    if not kind.endswith("diffusion") and sample_steps is not None:
        raise ValueError(f"sample_steps={sample_steps} is for a diffusion predictor; this one is {kind}")
