"""The observation/action contract every worldsim env follows (gym-aloha / gym-pusht style).

``obs = {"pixels": {camera: uint8 (H, W, 3)}, "agent_pos": float32 (D,),
"environment_state": float32 (E,)}``, ``info["is_success"]`` on every step, and the
simulator's own ``Box`` actions. Simulators and world-model envs build their spaces here so
the two cannot drift apart.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def image_hw(image_size) -> tuple[int, int]:
    """Accept ``64`` or ``(height, width)``; reject anything else with a clear message."""
    hw = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    if len(hw) != 2 or not all(isinstance(v, (int, np.integer)) and 8 <= v <= 1024 for v in hw):
        raise ValueError(f"image_size={image_size!r} must be an int or (height, width) with values in [8, 1024]")
    return int(hw[0]), int(hw[1])


def observation_space(cameras, height: int, width: int, agent_dim: int, env_dim: int) -> spaces.Dict:
    pixels = spaces.Dict(
        {cam: spaces.Box(0, 255, (height, width, 3), np.uint8) for cam in cameras}
    )
    return spaces.Dict(
        {
            "pixels": pixels,
            "agent_pos": spaces.Box(-np.inf, np.inf, (agent_dim,), np.float32),
            "environment_state": spaces.Box(-np.inf, np.inf, (env_dim,), np.float32),
        }
    )


def check_cameras(cameras, allowed) -> tuple[str, ...]:
    cameras = (cameras,) if isinstance(cameras, str) else tuple(cameras)
    if not cameras:
        raise ValueError(f"cameras must name at least one of: {', '.join(allowed)}")
    for cam in cameras:
        if cam not in allowed:
            raise ValueError(f"unknown camera {cam!r}; allowed: {', '.join(allowed)}")
    return cameras


def validate_action(action, space: spaces.Box) -> np.ndarray:
    """Return the action as float32 of the space's shape, or raise a one-line ValueError."""
    try:
        a = np.asarray(action, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"action {action!r} is not numeric; expected shape {space.shape}") from None
    if a.shape != space.shape:
        raise ValueError(f"action has shape {a.shape}; expected {space.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"action {a.tolist()} contains NaN or inf")
    if np.any(a < space.low - 1e-6) or np.any(a > space.high + 1e-6):
        raise ValueError(
            f"action {a.tolist()} is out of bounds [{space.low.tolist()}, {space.high.tolist()}]"
        )
    return a
