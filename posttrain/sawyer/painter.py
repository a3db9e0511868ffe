"""The frames of the Sawyer world model: a U-Net paints the camera's view of a physical state.

    painter = SawyerPainter(SawyerPainterConfig(), intrinsics, extrinsics, stats)
    frame = painter(first, start, state)   # (B, 3, H, W) first frame in [-1, 1], (B, 44), (B, 44) -> (B, 3, H, W)

It is not autoregressive: every frame is painted from the episode's first frame (the table, the
goal marker, the object where it started, the light) and the state now, so painting errors cannot
pile up over an episode, and the frames always show the state the dynamics carry. Where things
are enters twice. Layout maps are soft blobs where the camera sees the hand and the object now and
where it saw them in the first frame (projected through the camera's recorded intrinsics and
extrinsics: OpenCV axes, world-from-camera). A conditioning vector (the hand, fingers, gripper,
object pose and the arm's seven joint angles, normalised by the training data) sets every block's
group-norm scale and shift: the arm's pose is there, not in the maps. The network is the pixel
world model's U-Net (``posttrain.pixel_unet.network``) with one context frame, the first, and that
vector in place of its actions; its output is added to the first frame.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from posttrain.pixel_unet.config import UNetConfig
from posttrain.pixel_unet.network import UNet
from posttrain.sawyer.camera import project
from posttrain.sawyer.config import ARM_Q, FINGERS, GRIPPER, HAND, OBJ, OBJ_QUAT, STATE_DIM, SawyerPainterConfig

# what the conditioning vector holds of a state, and of the first state (where the object started)
COND_INDEX = (*range(HAND.start, HAND.stop), GRIPPER, *range(FINGERS.start, FINGERS.stop),
              *range(OBJ.start, OBJ.stop), *range(OBJ_QUAT.start, OBJ_QUAT.stop), *range(ARM_Q.start, ARM_Q.stop))
COND_DIM = len(COND_INDEX) + 3
MAPS = 4   # hand now, object now, hand first, object first


class SawyerPainter(nn.Module):
    def __init__(self, cfg: SawyerPainterConfig, intrinsics: Tensor | None = None, extrinsics: Tensor | None = None,
                 stats: dict[str, Tensor] | None = None):
        super().__init__()
        self.cfg = cfg
        self.net = UNet(UNetConfig(context=1, action_dim=COND_DIM, patch=cfg.patch, channels=list(cfg.channels),
                                   blocks=cfg.blocks, cond_dim=cfg.cond_dim, groups=cfg.groups, layout=MAPS))
        self.register_buffer("intrinsics", torch.eye(3) if intrinsics is None else torch.as_tensor(intrinsics).float())
        self.register_buffer("extrinsics", torch.eye(4) if extrinsics is None else torch.as_tensor(extrinsics).float())
        stats = stats or {"state_mean": torch.zeros(STATE_DIM), "state_std": torch.ones(STATE_DIM)}
        self.register_buffer("state_mean", torch.as_tensor(stats["state_mean"]).float().clone())
        self.register_buffer("state_std", torch.as_tensor(stats["state_std"]).float().clone())
        v = torch.arange(cfg.height, dtype=torch.float32) + 0.5
        u = torch.arange(cfg.width, dtype=torch.float32) + 0.5
        self.register_buffer("grid", torch.stack(torch.meshgrid(u, v, indexing="xy"), dim=-1), persistent=False)

    def maps(self, start: Tensor, state: Tensor) -> Tensor:
        """(B, 44), (B, 44) -> (B, 4, H, W) soft blobs of the hand and the object, now and first."""
        points = torch.stack([state[:, HAND], state[:, OBJ], start[:, HAND], start[:, OBJ]], dim=1)   # (B, 4, 3)
        uv = project(points, self.intrinsics, self.extrinsics)                                       # (B, 4, 2)
        d2 = ((self.grid[None, None] - uv[:, :, None, None]) ** 2).sum(-1)                          # (B, 4, H, W)
        return torch.exp(-d2 / (2 * self.cfg.blob_sigma ** 2))

    def condition(self, start: Tensor, state: Tensor) -> Tensor:
        """(B, COND_DIM) normalised state entries and the object's first position."""
        index = list(COND_INDEX)
        now = (state[:, index] - self.state_mean[index]) / self.state_std[index]
        first = (start[:, OBJ] - self.state_mean[OBJ]) / self.state_std[OBJ]
        return torch.cat([now, first], dim=1)

    def forward(self, first: Tensor, start: Tensor, state: Tensor) -> Tensor:
        b = first.shape[0]
        change = self.net(first[:, None], self.condition(start, state)[:, None], torch.zeros(b),
                          layout=self.maps(start, state))
        return first + change
