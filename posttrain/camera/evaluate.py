"""Held-out rollouts of a camera world model against the rendered frames, and their PSNR.

    generated, truth, poses = held_out_rollouts(wm, data, episodes=[3, 7], horizon=6)   # uint8 (N, 7, H, W, 3)
    rollout_psnr(wm, data, [3, 7], 6)   # {"model": (6,), "copy_first": (6,)} mean PSNR per step

Each episode is rolled out from its first frame with its own camera motions, the way the env steps
(one generated frame per motion, latents carried); repeating the first frame is the floor.
"""

from __future__ import annotations

import numpy as np

from posttrain.camera.clips import CameraEpisodes
from posttrain.camera.motion import action_between
from posttrain.camera.world_model import CAMERA, CameraWorldModel


def held_out_rollouts(wm: CameraWorldModel, data: CameraEpisodes, episodes: list[int], horizon: int,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Roll each episode out from its first frame with its own camera motions.

    Returns generated frames and ground truth, uint8 (N, horizon + 1, H, W, 3) each (frame 0 is the
    given one), and the true poses (N, horizon + 1, 4, 4)."""
    spans = [data.episode(e) for e in episodes]
    if min(s.stop - s.start for s in spans) < horizon + 1:
        raise ValueError(f"eval_horizon={horizon} needs episodes of at least {horizon + 1} frames")
    truth = np.stack([data.frames[s.start:s.start + horizon + 1] for s in spans])
    poses = np.stack([data.poses[s.start:s.start + horizon + 1] for s in spans])
    state = wm.start({CAMERA: truth[:, :1]}, poses[:, 0], seeds=[seed + e for e in episodes])
    generated = [truth[:, 0]]
    for t in range(horizon):
        actions = np.stack([action_between(p[t], p[t + 1], wm.motion) for p in poses])
        state, frames, _ = wm.step(state, actions)
        generated.append(frames[CAMERA])
    return np.stack(generated, axis=1), truth, poses


def frame_psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 3) x2 -> PSNR in dB per frame (...), at most 100 dB (MSE floored at 1e-10).

    Pooled over a whole array instead: ``posttrain.multiview.metrics.psnr``."""
    err = ((a.astype(np.float64) - b.astype(np.float64)) / 255.0) ** 2
    return -10.0 * np.log10(np.maximum(err.mean(axis=(-3, -2, -1)), 1e-10))


def rollout_psnr(wm: CameraWorldModel, data: CameraEpisodes, episodes: list[int], horizon: int) -> dict:
    """Per-step mean PSNR (horizon,) of the model's rollout and of repeating the first frame."""
    generated, truth, _ = held_out_rollouts(wm, data, episodes, horizon)
    copy = np.repeat(truth[:, :1], horizon + 1, axis=1)
    return {"model": frame_psnr(generated, truth)[:, 1:].mean(0), "copy_first": frame_psnr(copy, truth)[:, 1:].mean(0)}
