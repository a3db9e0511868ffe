"""A fixed, deterministic set of held-out clips for evaluating a model during and after training."""

from __future__ import annotations

import numpy as np
import torch

from worldsim.data.lerobot_reader import LeRobotDatasetReader


def held_out_clips(root: str, episodes: list[int], camera: str, clip_len: int, count: int) -> torch.Tensor:
    """Up to ``count`` clips (N, 3, clip_len, H, W) in [-1, 1]: the start of each held-out episode,
    then further windows, in a fixed order that does not depend on any RNG."""
    reader = LeRobotDatasetReader(root)
    key = f"observation.images.{camera}"
    clips = []
    for start_offset in range(0, 10_000, clip_len):
        for ep in episodes:
            if len(clips) == count:
                return _stack(clips)
            frames = reader.read_episode(ep)[key]                     # (T, H, W, 3) uint8
            if start_offset + clip_len <= len(frames):
                clips.append(frames[start_offset:start_offset + clip_len])
        if start_offset + clip_len > max(reader.episode_lengths[e] for e in episodes):
            break
    if not clips:
        raise ValueError(f"no held-out episode of {root} has {clip_len} frames")
    return _stack(clips)


def _stack(clips: list[np.ndarray]) -> torch.Tensor:
    video = torch.from_numpy(np.stack(clips)).float() / 127.5 - 1.0   # (N, T, H, W, 3)
    return video.permute(0, 4, 1, 2, 3).contiguous()                  # (N, 3, T, H, W)
