"""Frames between the envs' uint8 images and float tensors in [-1, 1], for the latent world models.

    video = to_video(frames)     # uint8 (N, T, H, W, 3) -> float (N, 3, T, H, W)
    images = to_uint8(x)         # float (N, 3, H, W) -> uint8 (N, H, W, 3)
"""

from __future__ import annotations

import numpy as np
import torch


def to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, T, H, W, 3) -> float (N, 3, T, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).float().div(127.5).sub(1.0).permute(0, 4, 1, 2, 3)


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> uint8 (N, H, W, 3)."""
    return ((video.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
