"""Reproject one view into another camera: the 3D cache of the reprojection camera model.

    points, colours = unproject(rgb, depth, intrinsics, pose0)   # the first view's pixels as world points
    view = splat(points, colours, intrinsics, pose_t, (H, W))    # ReprojectedView: what camera t sees of them

Cameras as the render sources write them: ``pose`` world-from-camera (4, 4) in OpenCV axes (x
right, y down, z forward), ``intrinsics`` (3, 3) in pixels with pixel centres at +0.5, ``depth``
planar metres (inf where the view hits nothing: such pixels are put ``far`` metres out, where
only the camera's turning moves them). Every source pixel is cut into ``supersample`` x
``supersample`` points so that a camera moving closer still gets a point in every pixel. Points
land in the pixel that contains their projection; where several land, the nearest surface wins
(a z-buffer, with ``depth_tolerance`` relative slack so points of one surface blend).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F


@dataclass
class ReprojectedView:
    rgb: Tensor     # (B, 3, H, W) in the colours' range, 0 where nothing landed
    hit: Tensor     # (B, 1, H, W) 1 where some point landed
    depth: Tensor   # (B, 1, H, W) planar depth of the nearest point, 0 where nothing landed


def unproject(rgb: Tensor, depth: Tensor, intrinsics: Tensor, pose: Tensor, supersample: int = 2,
              far: float = 20.0) -> tuple[Tensor, Tensor]:
    """rgb (B, 3, H, W), depth (B, H, W), intrinsics (B, 3, 3), pose (B, 4, 4) -> world points
    (B, P, 3) and their colours (B, P, 3), P = H * W * supersample**2."""
    b, _, h, w = rgb.shape
    s = supersample
    depth = torch.nan_to_num(depth.to(rgb.dtype), posinf=far).clamp_max(far)
    depth = F.interpolate(depth[:, None], scale_factor=s, mode="nearest")[:, 0]          # (B, sH, sW)
    colours = F.interpolate(rgb, scale_factor=s, mode="nearest").flatten(2).transpose(1, 2)  # (B, P, 3)
    v, u = torch.meshgrid(torch.arange(h * s, dtype=rgb.dtype), torch.arange(w * s, dtype=rgb.dtype), indexing="ij")
    u, v = (u + 0.5) / s, (v + 0.5) / s                                    # continuous pixel coordinates
    k = intrinsics.to(rgb.dtype)
    x = (u[None] - k[:, 0, 2, None, None]) / k[:, 0, 0, None, None]
    y = (v[None] - k[:, 1, 2, None, None]) / k[:, 1, 1, None, None]
    cam = torch.stack([x * depth, y * depth, depth], dim=-1).flatten(1, 2)  # (B, P, 3) camera frame
    pose = pose.to(rgb.dtype)
    return cam @ pose[:, :3, :3].transpose(1, 2) + pose[:, None, :3, 3], colours


def splat(points: Tensor, colours: Tensor, intrinsics: Tensor, pose: Tensor, size: tuple[int, int],
          depth_tolerance: float = 0.02) -> ReprojectedView:
    """World points (B, P, 3) with colours (B, P, C) seen by camera ``pose`` (B, 4, 4): the nearest
    point per pixel wins, points within ``depth_tolerance`` (relative) of it are averaged."""
    b, (h, w) = colours.shape[0], size
    pose, k = pose.to(points.dtype), intrinsics.to(points.dtype)
    cam = (points - pose[:, None, :3, 3]) @ pose[:, :3, :3]                 # rows: R^T (p - o)
    z = cam[..., 2]
    safe = z.clamp_min(1e-6)
    u = cam[..., 0] / safe * k[:, 0, 0, None] + k[:, 0, 2, None]
    v = cam[..., 1] / safe * k[:, 1, 1, None] + k[:, 1, 2, None]
    col, row = torch.floor(u).long(), torch.floor(v).long()
    valid = (z > 1e-3) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    index = (torch.arange(b)[:, None] * (h * w) + row * w + col)[valid]
    return z_buffer(index, z[valid], colours[valid], b, size, depth_tolerance)


def z_buffer(index: Tensor, z: Tensor, colours: Tensor, batch: int, size: tuple[int, int],
             depth_tolerance: float) -> ReprojectedView:
    """Fragments (pixel ``index`` into (batch, H, W), depth ``z``, ``colours`` (N, C)) into images: the
    nearest fragment per pixel wins, those within ``depth_tolerance`` (relative) of it are averaged."""
    h, w = size
    b, c = batch, colours.shape[-1]
    nearest = torch.full((b * h * w,), float("inf"), dtype=z.dtype).scatter_reduce(0, index, z, "amin")
    front = z <= nearest[index] * (1.0 + depth_tolerance)
    index, cs = index[front], colours[front]
    total = torch.zeros(b * h * w, c, dtype=colours.dtype).index_add_(0, index, cs)
    count = torch.zeros(b * h * w, dtype=colours.dtype).index_add_(0, index, torch.ones_like(index, dtype=colours.dtype))
    hit = count > 0
    rgb = total / count.clamp_min(1.0)[:, None]
    depth = torch.where(hit, nearest, torch.zeros_like(nearest))
    return ReprojectedView(rgb.view(b, h, w, c).permute(0, 3, 1, 2), hit.view(b, 1, h, w).to(colours.dtype),
                           depth.view(b, 1, h, w))
