"""The driving reprojection world model: the rig's six first views, lifted into one surface by
their depth, seen from where the car has driven, each view completed by a U-Net.

    wm = DrivingReprojectionWorldModel.load("assets/world_models/driving_reprojection")
    state = wm.start(frames, None, {"agent_pos": (N, 4), "environment_state": (N, 20),
                                    "depth": {cam: (N, H, W)}, "intrinsics": {cam: (N, 3, 3)}, "poses": {cam: (N, 4, 4)}})
    state, frames, extras = wm.step(state, actions)    # (N, 2) -> {cam: uint8 (N, H, W, 3)}; extras as the DiT's

The common world-model interface (posttrain/common/interface.py); ``context_state`` also carries
what the simulator renders at reset: each camera's depth (planar metres), intrinsics and
world-from-camera pose. A step:

* the ego: ``ego_motion.EgoMotion`` (learned) moves ``agent_pos``;
* the cameras: they ride on the car, so each camera's pose is its first pose carried by the car's
  motion since the start (road frame: x along the road, y left, z up);
* the views: every first view's pixels (all six cameras) are one surface (a mesh per view, cut at
  depth jumps, or points: the filler's ``surface``); each camera's view of it, with that camera's
  first view and motion, goes through the U-Net (``posttrain.camera.reprojection.ViewFiller``,
  trained by ``reprojection_train``), which paints what no first view saw;
* the other cars: carried at their observed velocity (``environment_state``'s (dx, dy, vx), the
  same six cars; not learned), with the lane offset and the distance to the goal following the ego;
* the judgement: the simulator's rules on that state (``envs.driving_rules.DrivingOutcome``).

Not autoregressive (every view comes from the first ones), deterministic (``seeds`` unused). The
cars that move are frozen where the first views saw them; only the car's own motion moves the views.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from posttrain.camera.reprojection import ViewFiller
from posttrain.common.env_state import replace_rows
from posttrain.common.interface import no_task
from posttrain.multiview.ego_motion import EgoMotion
from posttrain.multiview.reprojection_config import ARCHITECTURE

DT = 0.1            # seconds per step (the simulator's)
AGENT_DIM = 4
CAR_SLOTS = 6
LANE_CENTRE = -1.75


@dataclass
class DrivingReprojectionState:
    """views (N, V, 3, H, W) first views in [-1, 1]; points and colours (N, P, 3) float64 and mesh
    faces ``keep``: all first views lifted into one surface (``ViewFiller.lift``; once, at the
    start); intrinsics, poses (N, V, ...) the cameras at the start; start_agent (N, 4); state (N, 24) agent_pos ++ environment_state; start_x (N,); steps (N,)."""

    views: torch.Tensor
    points: torch.Tensor
    colours: torch.Tensor
    keep: torch.Tensor
    intrinsics: torch.Tensor
    poses: torch.Tensor
    start_agent: torch.Tensor
    state: torch.Tensor
    start_x: np.ndarray
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_envs(self) -> int:
        return self.views.shape[0]

    def replace(self, indices: Sequence[int], other: "DrivingReprojectionState") -> "DrivingReprojectionState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        return replace_rows(self, indices, other)


def ego_transform(agent: torch.Tensor) -> torch.Tensor:
    """(N, 4) (x, y, yaw, speed) -> (N, 4, 4) world-from-car (z up)."""
    c, s = torch.cos(agent[:, 2]), torch.sin(agent[:, 2])
    out = torch.zeros(len(agent), 4, 4, dtype=torch.float64)
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = c, -s, s, c
    out[:, 2, 2] = out[:, 3, 3] = 1.0
    out[:, 0, 3], out[:, 1, 3] = agent[:, 0], agent[:, 1]
    return out


def carry_traffic(env_state: torch.Tensor, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """The six cars at their velocity along x for one step, relative to the ego's new position; the
    lane offset and the distance to the goal follow the ego."""
    out = env_state.clone()
    cars = out[:, :3 * CAR_SLOTS].view(-1, CAR_SLOTS, 3)
    cars[:, :, 0] += cars[:, :, 2] * DT - (after[:, 0] - before[:, 0])[:, None]
    cars[:, :, 1] -= (after[:, 1] - before[:, 1])[:, None]
    out[:, 3 * CAR_SLOTS] = after[:, 1] - LANE_CENTRE
    out[:, 3 * CAR_SLOTS + 1] -= after[:, 0] - before[:, 0]
    return out


class DrivingReprojectionWorldModel:
    needs_depth = True
    render_switch = True   # the state never comes from the views: ``step(..., render=False)`` skips them

    def __init__(self, filler: ViewFiller, ego: EgoMotion, sim: dict, rule: Callable | None = None):
        self.filler, self.ego = filler.eval().requires_grad_(False), ego.eval().requires_grad_(False)
        self.sim, self.cameras = sim, list(sim["cameras"])
        self.rule = rule

    @classmethod
    def load(cls, path: str, rule: Callable | None = None) -> "DrivingReprojectionWorldModel":
        from posttrain.camera.reprojection_config import ViewFillerConfig
        from worldsim.config import structured
        from worldsim.io import load_tensor_state, read_tensors
        from worldsim.io.checkpoints import read_config

        config = read_config(path)
        if config.get("architecture") != ARCHITECTURE:
            raise ValueError(f"{path} holds a {config.get('architecture')!r} model, expected {ARCHITECTURE!r}")
        filler, ego = ViewFiller(structured(ViewFillerConfig, config["net"])), EgoMotion()
        tensors = read_tensors(Path(path) / "model.safetensors")
        for prefix, module in (("filler.", filler), ("ego.", ego)):
            load_tensor_state(module, {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        return cls(filler, ego, config["sim"], rule)

    def start(self, context_frames: dict, context_actions=None, context_state=None, seeds=None) -> DrivingReprojectionState:
        from worldsim.conditioning.plucker import check_poses

        self._checked(context_frames)
        need = ("agent_pos", "environment_state", "depth", "intrinsics", "poses")
        if not isinstance(context_state, dict) or any(k not in context_state for k in need):
            raise ValueError(f"the driving reprojection model starts from the simulator's state and, per camera, "
                             f"its depth, intrinsics and pose at reset: context_state needs {list(need)}")
        views = self.encode({c: np.asarray(context_frames[c])[:, -1] for c in self.cameras})
        stack = lambda key: torch.as_tensor(np.stack([np.asarray(context_state[key][c]) for c in self.cameras], 1))  # noqa: E731
        depth, k, poses = stack("depth").float(), stack("intrinsics").double(), stack("poses").double()
        h, w = self.sim["height"], self.sim["width"]
        if tuple(depth.shape[1:]) != (len(self.cameras), h, w):
            raise ValueError(f"depth must be (N, {h}, {w}) metres per camera, got {tuple(depth.shape)}")
        check_poses(poses)
        surface = self.filler.lift(views, depth, k, poses)
        agent = torch.as_tensor(np.asarray(context_state["agent_pos"], np.float64))
        env = torch.as_tensor(np.asarray(context_state["environment_state"], np.float64))
        state = torch.cat([agent, env], dim=1)
        return DrivingReprojectionState(views, *surface, k, poses, agent.clone(), state,
                                        agent[:, 0].numpy().copy(), np.zeros(len(agent), np.int64))

    def encode(self, frames: dict) -> torch.Tensor:
        """{cam: uint8 (N, H, W, 3)} -> (N, V, 3, H, W) in [-1, 1], cameras in the model's order."""
        return torch.stack([torch.from_numpy(np.ascontiguousarray(frames[c])).permute(0, 3, 1, 2).float() / 127.5 - 1
                            for c in self.cameras], dim=1)

    def decode(self, views: torch.Tensor) -> dict:
        u8 = ((views.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()
        return {c: u8[:, i] for i, c in enumerate(self.cameras)}

    def judge_step(self, state, actions=None, next_state=None) -> tuple[np.ndarray, np.ndarray]:
        """(reward (N,), success (N,)) of the step: the simulator's rules on the predicted state."""
        return self._rules(state, next_state)[:2]

    def _rules(self, state, next_state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.rule is None:
            reward, success = no_task(state.num_envs)
            return reward, success, np.zeros(state.num_envs, bool)
        return self.rule(state.state.float().numpy(), next_state.state.float().numpy(), state.start_x)

    @torch.no_grad()
    def step(self, state: DrivingReprojectionState, actions, render: bool = True
             ) -> tuple[DrivingReprojectionState, dict, dict]:
        a = torch.as_tensor(np.asarray(actions, np.float32))
        before = state.state[:, :AGENT_DIM]
        agent = self.ego.step(before, a)
        env = carry_traffic(state.state[:, AGENT_DIM:], before, agent)
        new = dataclasses.replace(state, state=torch.cat([agent, env], dim=1), steps=state.steps + 1)
        frames = self.decode(self.render(new) if render else torch.zeros_like(state.views))
        reward, success, crashed = self._rules(state, new)
        extras = {"agent_pos": agent.float().numpy(), "environment_state": env.float().numpy(),
                  "reward": np.asarray(reward, np.float32), "success": np.asarray(success, bool),
                  "crashed": np.asarray(crashed, bool)}
        return new, frames, extras

    def render(self, state: DrivingReprojectionState) -> torch.Tensor:
        """(N, V, 3, H, W): every camera's view from where the car is now."""
        n, v = state.views.shape[:2]
        moved = ego_transform(state.state[:, :AGENT_DIM].double()) @ torch.linalg.inv(ego_transform(state.start_agent))
        poses_t = moved[:, None] @ state.poses                                          # (N, V, 4, 4)
        rep = lambda x: x[:, None].expand(n, v, *x.shape[1:]).flatten(0, 1)          # noqa: E731  every target camera
        view = self.filler.see(rep(state.points), rep(state.colours), rep(state.keep), state.intrinsics.flatten(0, 1),
                               poses_t.flatten(0, 1), tuple(state.views.shape[-2:]))
        out = self.filler.complete(state.views.flatten(0, 1), view, state.poses.flatten(0, 1), poses_t.flatten(0, 1))
        return out.view(n, v, *out.shape[1:])

    def _checked(self, frames: dict) -> list[str]:
        if not isinstance(frames, dict) or sorted(frames) != sorted(self.cameras):
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"frames must hold the {len(self.cameras)} views {self.cameras} this model was trained "
                             f"for, got {got}")
        h, w = self.sim["height"], self.sim["width"]
        for c in self.cameras:
            f = np.asarray(frames[c])
            if f.ndim != 5 or tuple(f.shape[-3:]) != (h, w, 3):
                raise ValueError(f"frames[{c!r}] must be uint8 (N, T, {h}, {w}, 3), got {tuple(f.shape)}")
        return self.cameras
