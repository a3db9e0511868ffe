"""Stepping the reprojection camera model: every view is the first view reprojected into the
commanded camera and completed by the U-Net (``reprojection.py``).

    wm = ReprojectionCameraWorldModel.load("assets/world_models/camera_reprojection")
    state = wm.start({"camera": frames}, poses, {"depth": depth})   # uint8 (N, T, H, W, 3), (N, 4, 4), (N, H, W) m
    state, frames, extras = wm.step(state, actions)            # (N, 6) camera motions -> {"camera": uint8 (N, H, W, 3)}
    extras["agent_pos"]                                        # (N, 6) the camera's pose (motion.camera_state)

The common world-model interface (posttrain/common/interface.py) with the camera poses at the
start frame as ``context_actions`` and that frame's depth (planar metres, what the simulator renders
at reset) as ``context_state["depth"]``; only the last context frame is used. Frames are the
model's own latents (``encode``: floats in [-1, 1]). The model is deterministic (``seeds``
are accepted and unused) and not autoregressive: every view is made from the first one, so errors
do not pile up along the walk. The pose is the old one composed with the commanded motion, so the
camera pose is exact. No task: reward 0, never success.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from posttrain.camera.motion import CameraMotionConfig, apply_action, camera_state
from posttrain.camera.reprojection import ViewFiller
from posttrain.camera.reprojection_config import ARCHITECTURE, ViewFillerConfig
from posttrain.common.env_state import replace_rows
from posttrain.common.interface import no_task

CAMERA = "camera"


@dataclass
class ReprojectionState:
    """first (N, 3, H, W) in [-1, 1]; its pixels lifted by its depth, points and colours (N, P, 3)
    float64 and mesh faces ``keep`` (``ViewFiller.lift``; once, at the start); its pose and the
    current pose (N, 4, 4) float64."""

    first: torch.Tensor
    points: torch.Tensor
    colours: torch.Tensor
    keep: torch.Tensor
    first_poses: np.ndarray
    poses: np.ndarray

    @property
    def num_envs(self) -> int:
        return self.first.shape[0]

    def replace(self, indices: Sequence[int], other: "ReprojectionState") -> "ReprojectionState":
        """A copy whose envs ``indices`` are ``other``'s envs 0..len(indices)-1."""
        return replace_rows(self, indices, other)


class ReprojectionCameraWorldModel:
    needs_depth = True

    def __init__(self, filler: ViewFiller, intrinsics: np.ndarray, motion: CameraMotionConfig):
        self.filler = filler.eval().requires_grad_(False)
        self.intrinsics = np.asarray(intrinsics, np.float64)
        self.height = self.width = int(filler.cfg.image_size)
        self.motion = motion
        self.cameras = [CAMERA]

    @classmethod
    def load(cls, path: str) -> "ReprojectionCameraWorldModel":
        from worldsim.config import structured
        from worldsim.io import load_tensor_state, read_tensors
        from worldsim.io.checkpoints import read_config

        config = read_config(path)
        if config.get("architecture") != ARCHITECTURE:
            raise ValueError(f"{path} holds a {config.get('architecture')!r} model, expected {ARCHITECTURE!r} "
                             "(a folder posttrain/camera/reprojection_export.py wrote)")
        filler = ViewFiller(structured(ViewFillerConfig, config["net"]))
        load_tensor_state(filler, read_tensors(Path(path) / "model.safetensors"))
        return cls(filler, np.reshape(config["intrinsics"], (3, 3)), CameraMotionConfig(**config["motion"]))

    def start(self, context_frames: dict, context_actions=None, context_state=None, seeds=None) -> ReprojectionState:
        from worldsim.conditioning.plucker import check_poses

        depth = context_state.get("depth") if isinstance(context_state, dict) else None
        if context_actions is None or depth is None:
            raise ValueError("the reprojection camera model starts from frames, the camera poses (N, 4, 4) "
                             "world-from-camera as context_actions, and the last frame's depth (N, H, W) metres "
                             "as context_state={'depth': ...}")
        frames = self._frames(context_frames)
        poses = np.asarray(context_actions, np.float64)
        check_poses(torch.as_tensor(poses))
        depth = torch.as_tensor(np.asarray(depth, np.float32))
        if tuple(depth.shape) != (len(frames), self.height, self.width):
            raise ValueError(f"depth must be (N, {self.height}, {self.width}) metres for {len(frames)} envs, "
                             f"got {tuple(depth.shape)}")
        first = self.encode({CAMERA: frames})
        k = torch.as_tensor(self.intrinsics).expand(len(first), 3, 3)
        surface = self.filler.lift(first[:, None], depth[:, None], k[:, None], torch.as_tensor(poses)[:, None])
        return ReprojectionState(first, *surface, poses.copy(), poses.copy())

    def encode(self, frames: dict) -> torch.Tensor:
        """{CAMERA: uint8 (N, H, W, 3)} -> float (N, 3, H, W) in [-1, 1]."""
        return torch.from_numpy(np.ascontiguousarray(frames[CAMERA])).permute(0, 3, 1, 2).float() / 127.5 - 1.0

    def decode(self, views: torch.Tensor) -> dict:
        """float (N, 3, H, W) in [-1, 1] -> {CAMERA: uint8 (N, H, W, 3)}."""
        return {CAMERA: ((views.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()}

    def judge_step(self, state, actions=None, next_state=None) -> tuple[np.ndarray, np.ndarray]:
        """No task: reward 0, never success."""
        return no_task(state.num_envs)

    @torch.no_grad()
    def step(self, state: ReprojectionState, actions: np.ndarray) -> tuple[ReprojectionState, dict, dict]:
        """Every env's view after its camera motion: (state, {CAMERA: uint8 (N, H, W, 3)}, extras)."""
        poses = np.stack([apply_action(p, a, self.motion) for p, a in zip(state.poses, actions)])
        k = torch.as_tensor(self.intrinsics).expand(state.num_envs, 3, 3)
        pose0, pose_t = torch.as_tensor(state.first_poses), torch.as_tensor(poses)
        seen = self.filler.see(state.points, state.colours, state.keep, k, pose_t, (self.height, self.width))
        view = self.filler.complete(state.first, seen, pose0, pose_t)
        new = ReprojectionState(state.first, state.points, state.colours, state.keep, state.first_poses, poses)
        reward, success = self.judge_step(state, actions, new)
        extras = {"agent_pos": np.stack([camera_state(p) for p in poses]),
                  "environment_state": np.zeros((len(poses), 0), np.float32), "reward": reward, "success": success}
        return new, self.decode(view), extras

    def _frames(self, frames: dict) -> np.ndarray:
        want = f"(N, T>=1, {self.height}, {self.width}, 3)"
        if not isinstance(frames, dict) or set(frames) != {CAMERA}:
            got = sorted(frames) if isinstance(frames, dict) else type(frames).__name__
            raise ValueError(f"frames must be {{{CAMERA!r}: uint8 {want}}}, got {got}")
        v = np.asarray(frames[CAMERA])
        if v.ndim != 5 or tuple(v.shape[-3:]) != (self.height, self.width, 3) or v.shape[1] < 1:
            raise ValueError(f"frames must be uint8 {want} for this model, got {tuple(v.shape)}")
        return v[:, -1]
