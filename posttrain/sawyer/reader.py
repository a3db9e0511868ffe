"""State from frames for the Sawyer (Meta-World) tasks: where the hand, the object and the goal are.

    reader = SawyerReader(SawyerReaderConfig(), intrinsics, extrinsics, heights)
    uv = reader.keypoints(frames)            # (B, 3, H, W) in [-1, 1] -> (B, 5, 2) pixels of KEYPOINTS
    read = reader(frames)                    # {"hand": (B, 3), "object": (B, 3), "goal": (B, 3), "gripper": (B,)}

A fully convolutional network (an encoder-decoder with a skip) puts one heat map per keypoint on the image,
at half its resolution (``full_res``: at its own, one more decoder stage); a soft-argmax of each gives its
pixel to a fraction of a pixel. The keypoints are the hand, the point on the table under it, the object
(push: the puck; drawer-open: the handle), the point on the table under it, and the goal marker. They are
trained on the camera's projection of the recorded state (the dataset's intrinsics and extrinsics), so the
network learns where things are in the image, not the layouts of its training episodes, and metres come from
geometry: the goal is where its pixel's ray meets its height (``heights``), the hand's and the object's x, y
where their table points' rays meet the table, and their heights where their own rays pass closest to the
vertical line there (a grasped puck leaves the table), plus a small learned correction from all keypoints'
pixels and the gripper (the table points are not visible: their readings carry a pose-dependent bias the
correction takes out). The gripper's opening is regressed from the pooled features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from posttrain.sawyer.camera import height_above, on_plane
from posttrain.sawyer.config import SawyerReaderConfig

KEYPOINTS = ("hand", "hand_floor", "object", "object_floor", "goal")
HEIGHTS = ("floor", "goal")   # the table's height and the goal's (m)


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.GroupNorm(min(8, c_out), c_out), nn.SiLU())


class SawyerReader(nn.Module):
    def __init__(self, cfg: SawyerReaderConfig, intrinsics: Tensor | None = None, extrinsics: Tensor | None = None,
                 heights: Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.enc1, self.enc2, self.enc3 = _conv(3, c // 2), _conv(c // 2, c, 2), _conv(c, 2 * c, 2)
        self.middle = nn.Sequential(_conv(2 * c, 2 * c), _conv(2 * c, 2 * c))
        self.dec = nn.Sequential(_conv(2 * c + c, c), _conv(c, c))
        # full_res: one more decoder stage, back to the image's size with the first encoder's features
        self.dec_full = nn.Sequential(_conv(c + c // 2, c // 2), _conv(c // 2, c // 2)) if cfg.full_res else None
        self.heat = nn.Conv2d(c // 2 if cfg.full_res else c, len(KEYPOINTS), 3, padding=1)
        self.gripper = nn.Linear(2 * c, 1)
        # a learned correction of the hand's and the object's geometric positions from all keypoints'
        # pixels and the gripper reading (zero at first)
        self.refine = nn.Sequential(nn.Linear(2 * len(KEYPOINTS) + 1, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(),
                                    nn.Linear(64, 6))
        nn.init.zeros_(self.refine[-1].weight)
        nn.init.zeros_(self.refine[-1].bias)
        self.register_buffer("intrinsics", torch.eye(3) if intrinsics is None else torch.as_tensor(intrinsics).float())
        self.register_buffer("extrinsics", torch.eye(4) if extrinsics is None else torch.as_tensor(extrinsics).float())
        self.register_buffer("heights", torch.zeros(len(HEIGHTS)) if heights is None else torch.as_tensor(heights).float())
        cell = 1 if cfg.full_res else 2   # heat-map cells: cell x cell pixels
        v = (torch.arange(cfg.height // cell, dtype=torch.float32) + 0.5) * cell
        u = (torch.arange(cfg.width // cell, dtype=torch.float32) + 0.5) * cell
        self.register_buffer("grid", torch.stack(torch.meshgrid(u, v, indexing="xy"), dim=-1).reshape(-1, 2),
                             persistent=False)

    def heat_maps(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 3, H, W) -> (logits (B, K, cells), gripper opening (B,)); cells: H/2 * W/2, or H * W
        with ``full_res``."""
        e1 = self.enc1(frames)                                                  # (B, c/2, H, W)
        e2 = self.enc2(e1)                                                      # (B, c, H/2, W/2)
        m = self.middle(self.enc3(e2))                                          # (B, 2c, H/4, W/4)
        d = self.dec(torch.cat([F.interpolate(m, scale_factor=2.0), e2], dim=1))
        if self.dec_full is not None:
            d = self.dec_full(torch.cat([F.interpolate(d, scale_factor=2.0), e1], dim=1))
        return self.heat(d).flatten(2), self.gripper(m.mean(dim=(2, 3)))[:, 0]

    def keypoints(self, frames: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, K, 2) expected pixel (u, v) of each keypoint."""
        logits, _ = self.heat_maps(frames)
        return logits.softmax(-1) @ self.grid

    def forward(self, frames: Tensor) -> dict[str, Tensor]:
        logits, gripper = self.heat_maps(frames)
        return self.positions(logits.softmax(-1) @ self.grid, gripper)

    def positions(self, uv: Tensor, gripper: Tensor) -> dict[str, Tensor]:
        """Keypoint pixels (B, K, 2) and the gripper reading (B,) -> positions in metres."""
        k, h, e = self.intrinsics, self.heights, self.extrinsics
        ones = torch.ones(len(uv))
        size = torch.tensor([self.cfg.width, self.cfg.height], dtype=uv.dtype)
        fix = 0.05 * self.refine(torch.cat([(uv / size - 0.5).flatten(1), gripper[:, None]], dim=1))
        hand, obj = (self.above(uv[:, i], uv[:, i + 1]) + fix[:, 3 * j:3 * j + 3] for j, i in enumerate((0, 2)))
        return {"hand": hand, "object": obj, "goal": on_plane(uv[:, 4], h[1] * ones, k, e), "gripper": gripper.clamp(0, 1)}

    def above(self, uv: Tensor, uv_floor: Tensor) -> Tensor:
        """The point seen at pixels ``uv`` (B, 2) straight above the table point seen at ``uv_floor``: (B, 3)."""
        k, e = self.intrinsics, self.extrinsics
        floor = on_plane(uv_floor, self.heights[0] * torch.ones(len(uv)), k, e)
        return torch.cat([floor[:, :2], height_above(uv, floor[:, :2], k, e)[:, None]], dim=1)

    def loss(self, frames: Tensor, targets_uv: Tensor, gripper: Tensor, hand: Tensor, obj: Tensor,
             sigma: float = 1.5) -> Tensor:
        """Cross-entropy of each heat map against a Gaussian at its keypoint's projected pixel
        (B, K, 2), the soft-argmax's pixel error, the hand's and the object's position errors
        (B, 3) in cm and the gripper's squared error."""
        logits, opening = self.heat_maps(frames)
        d2 = ((self.grid[None, None] - targets_uv[:, :, None]) ** 2).sum(-1)   # (B, K, H*W)
        target = torch.softmax(-d2 / (2 * sigma ** 2), dim=-1)
        ce = -(target * logits.log_softmax(-1)).sum(-1).mean()
        uv = logits.softmax(-1) @ self.grid
        read = self.positions(uv, opening)
        cm = ((read["hand"] - hand).abs().mean() + (read["object"] - obj).abs().mean()) / 0.01
        return ce + 0.1 * (uv - targets_uv).abs().mean() + 0.1 * cm + 10 * ((opening - gripper) ** 2).mean()
