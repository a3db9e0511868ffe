"""The square block's symmetry frame: where one pushing situation has one set of coordinates.

A square block pushed by a disk on an isotropic table behaves the same under any rotation of the
whole scene and under the square's own symmetries (turns by 90 degrees, mirror images). A network
that sees world coordinates must learn each pose of the block separately. In the symmetry frame
the origin is the block's centre, the x axis is the block's face normal nearest the pusher, and
the y axis is mirrored when needed so the pusher sits at y >= 0: every situation lands in the
wedge 0 <= angle <= 45 degrees, one eighth of the plane.

    frame = SymmetryFrame.of(pusher - block, yaw)
    local = frame.vectors_in(v)           # (B, ..., 2) world -> frame
    world = frame.vectors_out(local)      # and back
    yaw_rate_local = frame.signs * yaw_rate   # turning senses flip with the mirror
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class SymmetryFrame:
    cos: Tensor     # (B,) cosine and sine of the frame's x axis in the world (computed once, used per vector)
    sin: Tensor
    signs: Tensor   # (B,) +1, or -1 where the frame's y axis is mirrored

    @classmethod
    def of(cls, offset: Tensor, yaw: Tensor) -> "SymmetryFrame":
        """offset (B, 2): pusher minus block centre, world; yaw (B,): the block's yaw."""
        rel = torch.atan2(offset[:, 1], offset[:, 0]) - yaw
        quarter = torch.round(rel / (math.pi / 2))   # the face whose normal is nearest the pusher
        angle = yaw + quarter * (math.pi / 2)
        side = torch.sin(rel - quarter * (math.pi / 2))
        signs = torch.where(side < 0, -1.0, 1.0).to(offset.dtype)
        return cls(torch.cos(angle), torch.sin(angle), signs)

    def _expand(self, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        shape = (-1,) + (1,) * (v.dim() - 2)
        return self.cos.view(shape), self.sin.view(shape), self.signs.view(shape)

    def vectors_in(self, v: Tensor) -> Tensor:
        c, s, m = self._expand(v)
        x, y = v[..., 0], v[..., 1]
        return torch.stack([c * x + s * y, m * (-s * x + c * y)], dim=-1)

    def vectors_out(self, v: Tensor) -> Tensor:
        c, s, m = self._expand(v)
        x, y = v[..., 0], m * v[..., 1]
        return torch.stack([c * x - s * y, s * x + c * y], dim=-1)
