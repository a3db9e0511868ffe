"""The batch of actions a world model's ``step`` takes, checked the same way by every family.

    a = batch_actions(actions, n=4, low=np.array([-1, -1]), high=np.array([1, 1]))   # float tensor (4, 2)
"""

from __future__ import annotations

import numpy as np
import torch


def batch_actions(actions, n: int, low: np.ndarray, high: np.ndarray) -> torch.Tensor:
    """``actions`` as a float tensor (n, A); a ValueError naming the problem for a wrong shape,
    NaN/inf, or values outside [low, high] (1e-6 slack)."""
    a = np.asarray(actions, np.float32)
    if a.shape != (n, len(low)):
        raise ValueError(f"actions must be (N, A) = ({n}, {len(low)}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"actions contain NaN or inf: {a.tolist()}")
    if np.any(a < low - 1e-6) or np.any(a > high + 1e-6):
        raise ValueError(f"actions {a.tolist()} out of bounds [{low.tolist()}, {high.tolist()}]")
    return torch.from_numpy(a)
