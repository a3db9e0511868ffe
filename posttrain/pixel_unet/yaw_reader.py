"""The block's yaw read from a frame: a small CNN on a crop centred on where the state reader sees the block.

    yaw_reader = YawReader(YawReaderConfig())
    fit_yaw(yaw_reader, reader, frames, yaws)      # simulator frames and the block's true yaw
    yaw = yaw_reader(frames, uv)                    # (B, 3, H, W), (B, 2) block centroid in [0, 1] -> (B,) radians

A square looks the same turned by 90 degrees, so the CNN predicts (cos 4 yaw, sin 4 yaw) and the
yaw comes back in [-pi/4, pi/4). A world model whose dynamics carry the block's yaw reads it once,
from the first frame of an episode, where the observation does not say it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass
class YawReaderConfig:
    crop: int = 12            # crop side in pixels, centred on the block
    hidden: int = 32
    steps: int = 1500         # fitting steps (batch 128)


class YawReader(nn.Module):
    def __init__(self, cfg: YawReaderConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.net = nn.Sequential(nn.Conv2d(3, h, 3, padding=1), nn.SiLU(), nn.Conv2d(h, h, 3, padding=1), nn.SiLU(),
                                 nn.AvgPool2d(2), nn.Conv2d(h, h, 3, padding=1), nn.SiLU(), nn.Flatten(),
                                 nn.Linear(h * (cfg.crop // 2) ** 2, h), nn.SiLU(), nn.Linear(h, 2))

    def crops(self, frames: Tensor, uv: Tensor) -> Tensor:
        """(B, 3, crop, crop) bilinear crops of ``frames`` centred on ``uv`` (B, 2) in [0, 1]."""
        b, _, h, w = frames.shape
        n = self.cfg.crop
        offs = (torch.arange(n, dtype=frames.dtype) - (n - 1) / 2)
        gx = (uv[:, 0, None] * 2 - 1) + offs[None] * 2 / w  # (B, n) in grid_sample's [-1, 1]
        gy = (uv[:, 1, None] * 2 - 1) + offs[None] * 2 / h
        grid = torch.stack([gx[:, None, :].expand(b, n, n), gy[:, :, None].expand(b, n, n)], dim=-1)
        return F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def harmonic(self, frames: Tensor, uv: Tensor) -> Tensor:
        """(B, 2): the predicted (cos 4 yaw, sin 4 yaw)."""
        return self.net(self.crops(frames, uv))

    def forward(self, frames: Tensor, uv: Tensor) -> Tensor:
        c, s = self.harmonic(frames, uv).unbind(dim=1)
        return torch.atan2(s, c) / 4


def fit_yaw(yaw_reader: YawReader, frames: Tensor, uv: Tensor, yaws: Tensor, seed: int = 0) -> float:
    """Regress (cos 4 yaw, sin 4 yaw) on frames (F, 3, H, W) with block centroids uv (F, 2); returns
    the last loss. Crops are jittered by up to a pixel so the reader tolerates centroid error."""
    gen = torch.Generator().manual_seed(seed)
    target = torch.stack([torch.cos(4 * yaws), torch.sin(4 * yaws)], dim=1)
    opt = torch.optim.Adam(yaw_reader.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, yaw_reader.cfg.steps)
    h = frames.shape[-1]
    loss = torch.zeros(())
    for _ in range(yaw_reader.cfg.steps):
        idx = torch.randint(len(frames), (128,), generator=gen)
        jitter = (torch.rand(128, 2, generator=gen) - 0.5) * 2 / h
        loss = F.mse_loss(yaw_reader.harmonic(frames[idx], uv[idx] + jitter), target[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return float(loss.detach())


def yaw_error_deg(pred: Tensor, true: Tensor) -> Tensor:
    """Angular error modulo the square's 90-degree symmetry, in degrees."""
    d = torch.remainder(pred - true + torch.pi / 4, torch.pi / 2) - torch.pi / 4
    return d.abs() * 180 / torch.pi
