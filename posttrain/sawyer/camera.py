"""The fixed camera of a Sawyer world model: its recorded parameters, projection and rays.

    intrinsics, extrinsics = camera_parameters("runs/mw_push_c4", "corner4")   # (3, 3), (4, 4)
    uv = project(points, intrinsics, extrinsics)          # world (B, P, 3) -> pixels (B, P, 2)
    xyz = on_plane(uv, z, intrinsics, extrinsics)         # pixels (B, 2) on planes at heights z (B,) -> (B, 3)
    z = height_above(uv, xy, intrinsics, extrinsics)      # the height over table points xy seen at uv

Parameters as ``worldsim generate ... camera_params=true`` records them: ``extrinsics``
world-from-camera in OpenCV axes (x right, y down, z forward), ``intrinsics`` in pixels of the
recorded image (pixel centres at +0.5).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def camera_parameters(data: str, camera: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(intrinsics (3, 3), extrinsics (4, 4)) the dataset recorded for ``camera`` (a fixed camera)."""
    from worldsim.data.lerobot_reader import LeRobotDatasetReader

    reader = LeRobotDatasetReader(data)
    keys = [f"observation.camera.{camera}.{name}" for name in ("intrinsics", "extrinsics")]
    missing = [k for k in keys if k not in reader.features]
    if missing:
        raise ValueError(f"{data} lacks {missing}: make it with `worldsim generate ... camera_params=true`")
    ep = reader.read_episode(0)
    return tuple(torch.from_numpy(np.asarray(ep[k][0], np.float32)) for k in keys)


def project(points: Tensor, intrinsics: Tensor, extrinsics: Tensor) -> Tensor:
    """World points (B, P, 3) -> image (u, v) in pixels (B, P, 2); ``extrinsics`` world-from-camera
    (4, 4) in OpenCV axes (x right, y down, z forward), ``intrinsics`` (3, 3)."""
    rot, origin = extrinsics[:3, :3], extrinsics[:3, 3]
    cam = (points - origin) @ rot                       # rows: rot.T @ (p - origin)
    z = cam[..., 2:3].clamp_min(1e-3)
    focal = torch.stack([intrinsics[0, 0], intrinsics[1, 1]])
    centre = torch.stack([intrinsics[0, 2], intrinsics[1, 2]])
    return cam[..., :2] / z * focal + centre


def rays(uv: Tensor, intrinsics: Tensor, extrinsics: Tensor) -> tuple[Tensor, Tensor]:
    """Pixels (..., 2) -> (origin (3,), world directions (..., 3)) of the camera rays through them
    (OpenCV axes; ``extrinsics`` world-from-camera)."""
    x = (uv[..., 0] - intrinsics[0, 2]) / intrinsics[0, 0]
    y = (uv[..., 1] - intrinsics[1, 2]) / intrinsics[1, 1]
    cam = torch.stack([x, y, torch.ones_like(x)], dim=-1)
    return extrinsics[:3, 3], cam @ extrinsics[:3, :3].T


def on_plane(uv: Tensor, z: Tensor, intrinsics: Tensor, extrinsics: Tensor) -> Tensor:
    """Where the rays through pixels (B, 2) meet the planes at heights ``z`` (B,): (B, 3)."""
    origin, d = rays(uv, intrinsics, extrinsics)
    s = (z - origin[2]) / d[:, 2]
    return origin + s[:, None] * d


def height_above(uv: Tensor, xy: Tensor, intrinsics: Tensor, extrinsics: Tensor) -> Tensor:
    """The height (B,) on the vertical line through table points ``xy`` (B, 2) closest to the rays
    through pixels ``uv`` (B, 2)."""
    origin, d = rays(uv, intrinsics, extrinsics)
    w = torch.cat([xy, torch.zeros_like(xy[:, :1])], dim=1) - origin     # line point - ray origin
    a, b = (d * d).sum(1), d[:, 2]                                     # d.d, d.up (up.up = 1)
    e, f = (d * w).sum(1), w[:, 2]                                     # d.w, w.up
    c = torch.ones_like(b)
    return (b * e - a * f) / (a * c - b * b)     # stationary point of |w + z up - s d|^2 in (z, s)
