"""State from frames for the Sawyer (Meta-World) tasks: the hand's and the object's positions.

    reader = SawyerReader(SawyerReaderConfig(views=2))
    xyz = reader(frames)        # float (B, V, 3, H, W) in [-1, 1] -> (B, 6): hand x, y, z, object x, y, z (metres)

The object is the task's first object (the puck for push, the drawer handle for drawer-open):
``environment_state[0:3]``. Each view goes through the same small CNN; each of its ``keypoints``
feature maps becomes an expected image position (a spatial soft-argmax: where that feature
fires), and an MLP maps every view's keypoints to the targets, normalised by the training data's
mean and spread. Positions, not appearance, are what the head sees, so it needs little data to
learn the cameras' geometry. The gripper's opening and the goal are not read: the first is the
world model's own state, the second sits in the state from reset (Meta-World draws no goal).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

TARGETS = ("hand_x", "hand_y", "hand_z", "object_x", "object_y", "object_z")


@dataclass
class SawyerReaderConfig:
    views: int = 2
    channels: int = 32
    keypoints: int = 16
    hidden: int = 256


class SpatialSoftArgmax(nn.Module):
    """(B, K, H, W) feature maps -> (B, K, 2) expected (x, y) in [-1, 1] under each map's softmax."""

    def __init__(self, keypoints: int):
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(keypoints))

    def forward(self, maps: Tensor) -> Tensor:
        b, k, h, w = maps.shape
        weights = F.softmax(maps.flatten(2) / self.temperature[None, :, None], dim=-1).view(b, k, h, w)
        ys = torch.linspace(-1, 1, h, device=maps.device)
        xs = torch.linspace(-1, 1, w, device=maps.device)
        return torch.stack([(weights.sum(2) * xs).sum(-1), (weights.sum(3) * ys).sum(-1)], dim=-1)


class SawyerReader(nn.Module):
    def __init__(self, cfg: SawyerReaderConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.features = nn.Sequential(
            nn.Conv2d(3, c, 5, stride=2, padding=2), nn.GroupNorm(8, c), nn.SiLU(),
            nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(8, c), nn.SiLU(),
            nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(8, c), nn.SiLU(),
            nn.Conv2d(c, cfg.keypoints, 1))
        self.soft_argmax = SpatialSoftArgmax(cfg.keypoints)
        self.head = nn.Sequential(nn.Linear(cfg.views * cfg.keypoints * 2, cfg.hidden), nn.SiLU(),
                                  nn.Linear(cfg.hidden, cfg.hidden), nn.SiLU(), nn.Linear(cfg.hidden, len(TARGETS)))
        self.register_buffer("mean", torch.zeros(len(TARGETS)))
        self.register_buffer("std", torch.ones(len(TARGETS)))

    def set_normalization(self, targets: Tensor) -> None:
        self.mean.copy_(targets.mean(0))
        self.std.copy_(targets.std(0).clamp_min(1e-3))

    def normalized(self, frames: Tensor) -> Tensor:
        """(B, V, 3, H, W) -> (B, 6) targets in units of the training data's spread."""
        b, v = frames.shape[:2]
        if v != self.cfg.views:
            raise ValueError(f"the reader was made for {self.cfg.views} views, got {v}")
        points = self.soft_argmax(self.features(frames.flatten(0, 1)))   # (B*V, K, 2)
        return self.head(points.reshape(b, -1))

    def forward(self, frames: Tensor) -> Tensor:
        return self.normalized(frames) * self.std + self.mean

    def loss(self, frames: Tensor, targets: Tensor) -> Tensor:
        return F.smooth_l1_loss(self.normalized(frames), (targets - self.mean) / self.std, beta=0.1)
