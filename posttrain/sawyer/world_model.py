"""The Sawyer (Meta-World) world model as the envs step it: learned dynamics carry the state, a
painter draws each frame of it.

    wm = SawyerWorldModel.load("assets/world_models/metaworld_push", rule=task_rule("push-v3"))
    state = wm.start({"corner4": uint8 (N, 1, H, W, 3)}, None, {"agent_pos": (N, 4), "environment_state": (N, 17)})
    state, frames, extras = wm.step(state, actions)                     # actions float32 (N, 4)
    extras["agent_pos"], extras["environment_state"], extras["reward"], extras["success"]

An episode starts from the first observation: its hand, gripper, object pose and goal go into the
physical state (``config.STATE_NAMES``); what an observation does not show (the arm's joints, the
mocap target, velocities) is the folder's ``reset_state``, the state every Meta-World reset
leaves (the same arm pose each time: only the object and the goal are drawn). The dynamics
(``dynamics.py``) then step that state; the policy gets its ``agent_pos`` / ``environment_state``,
success and reward are the task's own rule on it, and the painter (``painter.py``) draws the frame
from the episode's first frame and the state. ``step(..., render=False)`` skips the painting (the
state never comes from frames). Starting mid-episode (more than one context frame) is refused: the
hidden arm state of a later frame is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from posttrain.common.actions import batch_actions
from posttrain.common.env_state import replace_envs
from posttrain.pixel_unet.frames import to_float, to_uint8
from posttrain.sawyer.config import STATE_DIM
from posttrain.sawyer.observation import observation_of, state_of

FAMILY = "sawyer"


@dataclass
class SawyerState:
    """Per-env tensors batched on dim 0: sim_states (N, K, 44) the last K states, sim_actions
    (N, K-1, 4) between them, first (N, 3, H, W) the episode's first frame in [-1, 1], start
    (N, 44) its first state; one torch.Generator per env (it draws the episode's ensemble member);
    member (N,) the dynamics member each env follows (``ensemble.py``); steps (N,)."""

    sim_states: torch.Tensor
    sim_actions: torch.Tensor
    first: torch.Tensor
    start: torch.Tensor
    member: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    generators: list = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_envs(self) -> int:
        return self.sim_states.shape[0]

    def replace(self, indices: Sequence[int], other: "SawyerState") -> "SawyerState":
        return replace_envs(self, indices, other, ("sim_states", "sim_actions", "first", "start", "member"))


class SawyerWorldModel:
    def __init__(self, config: dict, dynamics, painter, rule, reader=None):
        if rule is None:
            raise ValueError(f"no success rule for {config['sim']['env_id']} {config['sim']['env_kwargs'].get('task')}: "
                             f"the Sawyer world model judges with the task's rule; pass "
                             f"rule=envs.rules.state_rule(env_id, env_kwargs)")
        self.config, self.dynamics, self.painter, self.rule, self.reader = config, dynamics, painter, rule, reader
        self.sim = config["sim"]
        self.cameras = list(self.sim["cameras"])
        self.context = int(dynamics.cfg.context)
        self.reset_state = torch.tensor(config["reset_state"], dtype=torch.float32)
        self.action_low = np.asarray(self.sim["action_low"], np.float32)
        self.action_high = np.asarray(self.sim["action_high"], np.float32)
        self.render_switch = True   # its state never comes from frames

    @classmethod
    def load(cls, path: str, predictor: Optional[str] = None, sample_steps: Optional[int] = None,
             sampler: Optional[str] = None, reencode: bool = False, judge: Optional[str] = None,
             rule=None) -> "SawyerWorldModel":
        """Load a folder from ``posttrain.sawyer.export``; ``rule`` is the task's outcome on state
        (``envs.rules.state_rule(env_id, env_kwargs)``; envs.world_model.session passes it)."""
        from posttrain.common.bundle import read_bundle
        from posttrain.pixel_unet.world_model import load_parts
        from posttrain.sawyer.config import SawyerPainterConfig
        from posttrain.sawyer.painter import SawyerPainter
        from worldsim.config import structured

        if reencode or sample_steps is not None or sampler is not None:
            raise ValueError("reencode, sample_steps and sampler apply to latent or diffusion world models; the Sawyer "
                             "world model steps a state and paints pixels from it")
        if judge not in (None, "state"):
            raise ValueError(f"judge={judge!r}: the Sawyer world model judges with the task's rule (judge='state')")
        config, tensors, _ = read_bundle(path)
        if predictor not in (None, config["default_predictor"]):
            raise ValueError(f"{path} has no predictor {predictor!r}; it has {sorted(config['predictors'])}")
        dynamics = load_ensemble(config, tensors, path)
        painter = SawyerPainter(structured(SawyerPainterConfig, config["painter"]["net"]))
        load_parts(path, tensors, ((painter, "painter."),))
        reader = load_reader(config, tensors, path)
        return cls(config, dynamics, painter, rule, reader)

    # -------------------------------------------------------- the contract

    @torch.no_grad()
    def start(self, context_frames: dict, context_actions=None, context_state: Optional[dict] = None,
              seeds: Optional[Sequence[Optional[int]]] = None) -> SawyerState:
        frames = self._check_frames(context_frames)   # (N, 1, 3, H, W)
        n = frames.shape[0]
        if context_state is None:
            if self.reader is None:
                raise ValueError("the Sawyer world model starts from the first observation's state: pass "
                                 "context_state={'agent_pos': (N, 4), 'environment_state': (N, 17)}")
            from posttrain.sawyer.perception import read_states

            agent, env = observation_of(read_states(self, frames[:, 0])[0])
        else:
            agent, env = context_state["agent_pos"], context_state["environment_state"]
        start = state_of(self.reset_state, agent, env)
        if start.shape != (n, STATE_DIM):
            raise ValueError(f"context_state must hold {n} envs' agent_pos (N, 4) and environment_state (N, 17)")
        gens = [torch.Generator().manual_seed(int(s)) if s is not None else torch.Generator()
                for s in (list(seeds) if seeds is not None else [None] * n)]
        return SawyerState(start[:, None].repeat(1, self.context, 1).contiguous(),
                           torch.zeros(n, self.context - 1, len(self.action_low)), frames[:, 0].contiguous(),
                           start, self.dynamics.draw(gens), gens, np.zeros(n, np.int64))

    @torch.no_grad()
    def step(self, state: SawyerState, actions, render: bool = True) -> tuple[SawyerState, dict, dict]:
        action = batch_actions(actions, state.num_envs, self.action_low, self.action_high)   # (N, 4)
        acts = torch.cat([state.sim_actions, action[:, None]], dim=1)                          # (N, K, 4)
        nxt = self.dynamics(state.sim_states, acts, state.member)
        agent, env = observation_of(nxt)
        reward, success = self.rule(agent, env)
        n, _, h, w = state.first.shape
        shown = to_uint8(self.painter(state.first, state.start, nxt)) if render else np.zeros((n, h, w, 3), np.uint8)
        new = SawyerState(torch.cat([state.sim_states[:, 1:], nxt[:, None]], dim=1), acts[:, 1:], state.first,
                          state.start, state.member, state.generators, state.steps + 1)
        extras = {"agent_pos": agent, "environment_state": env, "reward": np.asarray(reward, np.float32),
                  "success": np.asarray(success, bool)}
        return new, {self.cameras[0]: shown}, extras

    def encode(self, frames: dict) -> torch.Tensor:
        """{camera: uint8 (N, H, W, 3)} -> (N, 3, H, W) in [-1, 1]: the frames are this model's latents."""
        return to_float(np.asarray(frames[self.cameras[0]]))

    def decode(self, latents: torch.Tensor) -> dict[str, np.ndarray]:
        """(N, 3, H, W) in [-1, 1] -> {camera: uint8 (N, H, W, 3)}; exact inverse of ``encode``."""
        return {self.cameras[0]: to_uint8(latents)}

    def judge_step(self, state: SawyerState, actions=None, next_state: Optional[SawyerState] = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(reward (N,), success (N,)): the task's rule on the state after the step (``next_state``, or
        ``state`` alone when only one is given), as ``step`` judges."""
        after = state if next_state is None else next_state
        reward, success = self.rule(*observation_of(after.sim_states[:, -1]))
        return np.asarray(reward, np.float32), np.asarray(success, bool)

    def perception(self):
        if self.reader is None:
            raise ValueError("this Sawyer world-model folder has no state reader: its perception column cannot run "
                             "(evaluate with perception=false, or export it with --reader)")
        from posttrain.sawyer.perception import SawyerPerception

        return SawyerPerception(self)

    def _check_frames(self, frames: dict) -> torch.Tensor:
        if not isinstance(frames, dict) or set(frames) != set(self.cameras):
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"context_frames must be {{camera: uint8 (N, 1, H, W, 3)}} for cameras {self.cameras}, "
                             f"got {got}")
        v = np.asarray(frames[self.cameras[0]])
        want = (self.sim["height"], self.sim["width"], 3)
        if v.dtype != np.uint8 or v.ndim != 5 or v.shape[2:] != want or v.shape[1] != 1:
            raise ValueError(f"context_frames[{self.cameras[0]!r}] must be uint8 (N, 1, {want[0]}, {want[1]}, 3) (the "
                             f"Sawyer world model starts from an episode's first frame), got {v.dtype} {v.shape}")
        return to_float(v)


def load_ensemble(config: dict, tensors: dict, path: str):
    """The folder's dynamics: ``dynamics.*`` (one network) or ``dynamics.<i>.*`` for each of
    ``dynamics.members`` networks (an ensemble, ``ensemble.py``)."""
    from posttrain.pixel_unet.world_model import load_parts
    from posttrain.sawyer.config import SawyerDynamicsConfig
    from posttrain.sawyer.dynamics import SawyerDynamics
    from posttrain.sawyer.ensemble import DynamicsEnsemble
    from worldsim.config import structured

    section = config["dynamics"]
    count = int(section.get("members", 1))
    members = [SawyerDynamics(structured(SawyerDynamicsConfig, section["net"])) for _ in range(count)]
    prefixes = ["dynamics."] if count == 1 else [f"dynamics.{i}." for i in range(count)]
    load_parts(path, tensors, tuple(zip(members, prefixes)))
    return DynamicsEnsemble(members)


def load_reader(config: dict, tensors: dict, path: str):
    """The folder's state reader (``reader`` section), or None when it has none."""
    if "reader" not in config:
        return None
    from posttrain.pixel_unet.world_model import load_parts
    from posttrain.sawyer.reader import SawyerReader, SawyerReaderConfig
    from worldsim.config import structured

    reader = SawyerReader(structured(SawyerReaderConfig, config["reader"]))
    load_parts(path, tensors, ((reader, "reader."),))
    return reader
