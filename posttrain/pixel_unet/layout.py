"""Layout maps: where the state puts the pusher and the block, drawn as soft silhouettes in the image.

    layout = Layout(LayoutConfig(), reader)          # a fitted StateReader gives pixel -> table metres
    maps = layout(sim_state)                          # (B, 10) SIM_STATE -> (B, 2, H, W) in [0, 1]

A state-grounded frame generator (``UNetConfig.layout``) takes these maps of the *next* state
next to its context frames, the way a control-conditioned video model takes a segmentation map:
it paints appearance, shading and the static scene, while the maps say where the objects go, so
the frames cannot drift away from the state the dynamics carry. Each pixel's table coordinates
at an object's height come from the state reader's fitted centroid-to-metres map (a smooth
quadratic in the pixel's centre), so no camera model is needed. The pusher is a disk of
``pusher_radius``, the block a square of half-size ``block_half`` turned by its yaw; edges are
soft over ``edge`` metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from posttrain.pixel_unet.reader import StateReader, poly_features

CHANNELS = 2  # pusher, block


@dataclass
class LayoutConfig:
    pusher_radius: float = 0.02
    block_half: float = 0.025
    edge: float = 0.004
    height: int = 64
    width: int = 64


class Layout(nn.Module):
    def __init__(self, cfg: LayoutConfig, reader: StateReader):
        super().__init__()
        self.cfg = cfg
        v = (torch.arange(cfg.height, dtype=torch.float32) + 0.5) / cfg.height
        u = (torch.arange(cfg.width, dtype=torch.float32) + 0.5) / cfg.width
        uv = torch.stack(torch.meshgrid(u, v, indexing="xy"), dim=-1)  # (H, W, 2)
        feats = poly_features(uv)  # (H, W, 6)
        objects = reader.cfg.objects
        coef = reader.coef.detach()
        # per-pixel table coordinates at the pusher's and at the block's height: (2, H, W, 2)
        self.register_buffer("table_xy", torch.stack([feats @ coef[objects.index(n)] for n in ("pusher", "block")]))

    def forward(self, sim_state: Tensor) -> Tensor:
        """(B, >=5) pusher x, y, block x, y, yaw -> (B, 2, H, W) soft masks."""
        s = sim_state[:, :, None, None]
        px, py = self.table_xy[0, ..., 0] - s[:, 0], self.table_xy[0, ..., 1] - s[:, 1]
        pusher = torch.sigmoid((self.cfg.pusher_radius - torch.sqrt(px * px + py * py + 1e-12)) / self.cfg.edge)
        bx, by = self.table_xy[1, ..., 0] - s[:, 2], self.table_xy[1, ..., 1] - s[:, 3]
        c, sn = torch.cos(s[:, 4]), torch.sin(s[:, 4])
        along, across = c * bx + sn * by, -sn * bx + c * by  # pixel offsets in the block's frame
        inside = self.cfg.block_half - torch.maximum(along.abs(), across.abs())
        block = torch.sigmoid(inside / self.cfg.edge)
        return torch.stack([pusher, block], dim=1)
