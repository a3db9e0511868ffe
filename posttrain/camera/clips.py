"""Training clips for camera post-training: a camera dataset encoded once, and a resumable clip loader.

    data = CameraEpisodes("runs/camera_orbits", "camera", codec, scale=1.0)
    data.latents, data.poses, data.frames          # (N, C, h, w), (N, 4, 4), uint8 (N, H, W, 3)
    loader = CameraClipLoader(data, episodes=[0, 1], clip_frames=4, batch_size=8, seed=0, rank=0,
                              reverse=True, max_stride=2)
    batch = next(loader)    # {"latents": (B, C, T, h, w), "poses": (B, T, 4, 4), "intrinsics": (B, T, 3, 3)}

The dataset is one ``python -m posttrain.camera.data`` wrote; every frame is encoded alone.
"""

from __future__ import annotations

import numpy as np
import torch

from posttrain.camera.motion import CameraMotionConfig
from posttrain.common.frames import to_video


class CameraEpisodes:
    """Every frame of a camera dataset encoded once: latents (N, C, h, w), poses (N, 4, 4), episode starts."""

    def __init__(self, root: str, camera: str, codec, scale: float):
        from worldsim.data.lerobot_reader import LeRobotDatasetReader

        reader = LeRobotDatasetReader(root)
        wsim = reader.info.get("worldsim", {})
        if wsim.get("kind") != "camera_orbits":
            raise ValueError(f"{root} is not a camera dataset: make one with `python -m posttrain.camera.data`")
        self.motion = CameraMotionConfig(**wsim["config"]["motion"])
        frames, poses, self.starts = [], [], [0]
        for e in range(reader.num_episodes):
            ep = reader.read_episode(e)
            frames.append(ep[f"observation.images.{camera}"])
            poses.append(ep[f"observation.camera.{camera}.extrinsics"].astype(np.float64))
            self.starts.append(self.starts[-1] + len(frames[-1]))
            self.intrinsics = ep[f"observation.camera.{camera}.intrinsics"][0].astype(np.float64)
        self.frames = np.concatenate(frames)                   # (N, H, W, 3) uint8
        self.poses = np.concatenate(poses)                     # (N, 4, 4)
        with torch.no_grad():
            self.latents = torch.cat([codec.encode(to_video(f[:, None]))[:, :, 0] / scale
                                      for f in np.array_split(self.frames, max(1, len(self.frames) // 256))])
        self.num_episodes = reader.num_episodes
        self.fingerprint = f"{root}:{reader.info['total_frames']}"

    def episode(self, e: int) -> slice:
        return slice(self.starts[e], self.starts[e + 1])


class CameraClipLoader:
    """Deterministic endless clips: batch k depends only on (seed, rank, k), so resuming is exact."""

    def __init__(self, data: CameraEpisodes, episodes: list[int], clip_frames: int, batch_size: int,
                 seed: int, rank: int, reverse: bool, max_stride: int = 1):
        shortest = min(data.starts[e + 1] - data.starts[e] for e in episodes)
        if shortest < 1 + (clip_frames - 1) * max_stride:
            raise ValueError(f"clips of {clip_frames} frames at stride {max_stride} need episodes of at least "
                             f"{1 + (clip_frames - 1) * max_stride} frames; the shortest has {shortest}")
        self.data, self.episodes, self.batch_size = data, episodes, batch_size
        self.clip_frames, self.seed, self.rank, self.reverse = clip_frames, seed, rank, reverse
        self.max_stride = max_stride
        self.fingerprint = data.fingerprint
        self.step = 0

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        rng = np.random.default_rng([self.seed, self.rank, self.step])
        self.step += 1
        t = int(rng.integers(2, self.clip_frames + 1))
        stride = int(rng.integers(1, self.max_stride + 1))
        rows = [self._clip(rng, t, stride) for _ in range(self.batch_size)]
        k = torch.as_tensor(self.data.intrinsics).expand(self.batch_size, t, 3, 3)
        return {"latents": torch.stack([self.data.latents[r].transpose(0, 1) for r in rows]),  # (B, C, T, h, w)
                "poses": torch.as_tensor(np.stack([self.data.poses[r] for r in rows])),   # (B, T, 4, 4)
                "intrinsics": k.clone()}

    def _clip(self, rng, t: int, stride: int) -> np.ndarray:
        span = self.data.episode(int(rng.choice(self.episodes)))
        reach = (t - 1) * stride + 1
        start = span.start + int(rng.integers(0, span.stop - span.start - reach + 1))
        rows = np.arange(start, start + reach, stride)
        return rows[::-1].copy() if self.reverse and rng.random() < 0.5 else rows

    def state_dict(self) -> dict:
        return {"step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
