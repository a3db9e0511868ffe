"""Frames between the envs' uint8 images and the network's float tensors.

    x = to_float(frames)     # uint8 (..., H, W, 3) -> float (..., 3, H, W) in [-1, 1]
    img = to_uint8(x)        # float (B, 3, H, W) -> uint8 (B, H, W, 3)
"""

from __future__ import annotations

import numpy as np
import torch


def to_float(frames: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(frames)).float() / 127.5 - 1.0
    return t.movedim(-1, -3)


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """float (B, 3, H, W) in [-1, 1] -> uint8 (B, H, W, 3)."""
    return ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
