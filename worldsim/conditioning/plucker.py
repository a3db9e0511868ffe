"""Per-pixel Plücker rays of pinhole cameras: the 6-channel camera map Cosmos conditions on.

For a camera with intrinsics K (3, 3) and a world-from-camera pose P (4, 4) in OpenCV axes
(x right, y down, z forward; ``worldsim/data/frames.py``), the ray through the centre of pixel
(u, v) has the unit direction ``d = R K^-1 [u + 0.5, v + 0.5, 1] / |.|`` and passes through the
camera centre ``o = t``; its Plücker coordinates are the moment ``o x d`` and ``d``, stacked in
Cosmos's order [moment | direction]:

    rays = plucker_rays(K, P, height=32, width=32)          # K (..., 3, 3), P (..., 4, 4) -> (..., 6, 32, 32)
    rel = relative_poses(P)                                  # P (B, T, 4, 4): camera t in camera 0's frame
    rays = plucker_rays(K, rel, 32, 32)                      # the rays a camera-conditioned DiT sees

Expressed relative to the first (reference) camera, the rays do not depend on where the scene
sits in the world. A pose whose rotation is not orthonormal with determinant +1, a last row
other than [0, 0, 0, 1], non-finite values or a K with non-positive focal lengths raise
ValueError.
"""

from __future__ import annotations

import torch
from torch import Tensor

ORTHONORMAL_TOL = 1e-3


def check_intrinsics(intrinsics: Tensor) -> Tensor:
    """Validate pinhole matrices (..., 3, 3): finite, fx > 0, fy > 0, last row [0, 0, 1]."""
    k = torch.as_tensor(intrinsics)
    if k.ndim < 2 or tuple(k.shape[-2:]) != (3, 3):
        raise ValueError(f"intrinsics must be (..., 3, 3), got shape {tuple(k.shape)}")
    if not torch.isfinite(k).all():
        raise ValueError("intrinsics contain NaN or inf")
    fx, fy = k[..., 0, 0], k[..., 1, 1]
    if (fx <= 0).any() or (fy <= 0).any():
        raise ValueError(f"intrinsics focal lengths must be > 0, got fx min {float(fx.min()):.4g}, "
                         f"fy min {float(fy.min()):.4g}")
    last = torch.tensor([0.0, 0.0, 1.0], dtype=k.dtype)
    if not torch.allclose(k[..., 2, :], last.expand_as(k[..., 2, :]), atol=1e-6):
        raise ValueError("intrinsics last row must be [0, 0, 1]")
    return k


def check_poses(poses: Tensor) -> Tensor:
    """Validate world-from-camera poses (..., 4, 4): finite, rigid (R^T R = I, det R = +1)."""
    p = torch.as_tensor(poses)
    if p.ndim < 2 or tuple(p.shape[-2:]) != (4, 4):
        raise ValueError(f"camera poses must be (..., 4, 4) world-from-camera matrices, got shape {tuple(p.shape)}")
    if not torch.isfinite(p).all():
        raise ValueError("camera poses contain NaN or inf")
    last = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=p.dtype)
    if not torch.allclose(p[..., 3, :], last.expand_as(p[..., 3, :]), atol=1e-6):
        raise ValueError("camera poses must have last row [0, 0, 0, 1]")
    r = p[..., :3, :3].double()
    gram_err = (r.transpose(-1, -2) @ r - torch.eye(3, dtype=r.dtype)).abs().amax()
    if gram_err > ORTHONORMAL_TOL:
        raise ValueError(f"camera pose rotation is not orthonormal (max |R^T R - I| = {float(gram_err):.3g}, "
                         f"allowed {ORTHONORMAL_TOL})")
    det = torch.linalg.det(r)
    if (det < 0).any():
        raise ValueError(f"camera pose rotation has determinant {float(det.min()):.3g}: a reflection, "
                         "not a rotation (det must be +1)")
    return p


def invert_poses(poses: Tensor) -> Tensor:
    """Inverse of rigid transforms (..., 4, 4): [R^T, -R^T t]."""
    r, t = poses[..., :3, :3], poses[..., :3, 3:]
    out = torch.zeros_like(poses)
    out[..., :3, :3] = r.transpose(-1, -2)
    out[..., :3, 3:] = -r.transpose(-1, -2) @ t
    out[..., 3, 3] = 1.0
    return out


def relative_poses(poses: Tensor, reference: int = 0) -> Tensor:
    """Poses (B, T, 4, 4) -> each camera in the frame of camera ``reference`` (inv(P_ref) @ P_t)."""
    p = check_poses(poses)
    if p.ndim != 4:
        raise ValueError(f"relative_poses takes (B, T, 4, 4), got shape {tuple(p.shape)}")
    return invert_poses(p[:, reference : reference + 1]) @ p


def pixel_directions(intrinsics: Tensor, height: int, width: int) -> Tensor:
    """Unnormalised camera-frame directions K^-1 [u + 0.5, v + 0.5, 1]: (..., 3, 3) -> (..., H, W, 3)."""
    if height < 1 or width < 1:
        raise ValueError(f"image size {height}x{width} must be positive")
    k = intrinsics
    v, u = torch.meshgrid(torch.arange(height, dtype=k.dtype, device=k.device) + 0.5,
                          torch.arange(width, dtype=k.dtype, device=k.device) + 0.5, indexing="ij")  # (H, W)
    pix = torch.stack([u, v, torch.ones_like(u)], dim=-1)  # (H, W, 3)
    k_inv = torch.linalg.inv(k)  # (..., 3, 3)
    return torch.einsum("...ij,hwj->...hwi", k_inv, pix)


def plucker_rays(intrinsics: Tensor, poses: Tensor, height: int, width: int) -> Tensor:
    """[moment | direction] per pixel: K (..., 3, 3), poses (..., 4, 4) -> (..., 6, H, W)."""
    p_in = check_poses(poses)
    out_dtype = p_in.dtype if p_in.is_floating_point() else torch.float32
    k = check_intrinsics(intrinsics).to(torch.float64)
    p = p_in.to(torch.float64)
    if k.shape[:-2] != p.shape[:-2]:
        k = k.expand(*p.shape[:-2], 3, 3)
    d_cam = pixel_directions(k, height, width)  # (..., H, W, 3)
    r, t = p[..., :3, :3], p[..., :3, 3]
    d = torch.einsum("...ij,...hwj->...hwi", r, d_cam)
    d = d / d.norm(dim=-1, keepdim=True)
    o = t[..., None, None, :].expand_as(d)  # (..., H, W, 3)
    m = torch.linalg.cross(o, d, dim=-1)
    rays = torch.cat([m, d], dim=-1)  # (..., H, W, 6)
    return rays.movedim(-1, -3).to(out_dtype)
