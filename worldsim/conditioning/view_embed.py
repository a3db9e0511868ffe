"""Views folded into the token sequence, and a learned view embedding concatenated as channels.

Multi-view generation (Cosmos multi-view style) runs V camera views of one scene as one sequence:
the views are folded into the frame axis, view-major, so the DiT (``views=V``) restarts its RoPE
frame index per view and attends jointly across all of them; a learned per-view vector, broadcast
over every frame and pixel of that view, is concatenated as extra channels so the network can
tell the views apart (without it, swapping two views' content just swaps the outputs):

    x = fold_views(latents, views=6)               # (B*6, C, T, h, w) -> (B, C, 6*T, h, w)
    mask = fold_frames(cond_mask, views=6)         # (B*6, T) -> (B, 6*T), likewise (B*6, T, A)
    embed = ViewEmbedding(ViewEmbedConfig(num_views=6, channels=7))
    h = embed(x, views=6)                          # (B, C + 7, 6*T, h, w)
    out = dit(h, c_noise, cond_mask=mask, views=6)[:, :C]
    latents = unfold_views(out, views=6)           # back to (B*6, C, T, h, w)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class ViewEmbedConfig:
    num_views: int = 6
    channels: int = 7

    def __post_init__(self):
        if self.num_views < 1 or self.channels < 1:
            raise ValueError(f"num_views={self.num_views} and channels={self.channels} must be >= 1")


def _check_views(views: int, size: int, what: str) -> None:
    if views < 1 or size % views:
        raise ValueError(f"views={views} must be >= 1 and divide {what}={size}")


def fold_views(x: Tensor, views: int) -> Tensor:
    """(B*V, C, T, H, W) -> (B, C, V*T, H, W), view-major along the frame axis."""
    _check_views(views, x.shape[0], "the batch of per-view clips")
    bv, c, t, h, w = x.shape
    x = x.reshape(bv // views, views, c, t, h, w).transpose(1, 2)  # (B, C, V, T, H, W)
    return x.reshape(bv // views, c, views * t, h, w)


def unfold_views(x: Tensor, views: int) -> Tensor:
    """(B, C, V*T, H, W) -> (B*V, C, T, H, W); the inverse of :func:`fold_views`."""
    _check_views(views, x.shape[2], "the folded frame count")
    b, c, vt, h, w = x.shape
    x = x.reshape(b, c, views, vt // views, h, w).transpose(1, 2)  # (B, V, C, T, H, W)
    return x.reshape(b * views, c, vt // views, h, w)


def fold_frames(x: Tensor, views: int) -> Tensor:
    """Per-frame tensors (B*V, T, ...) (cond masks, actions) -> (B, V*T, ...), view-major."""
    _check_views(views, x.shape[0], "the batch of per-view clips")
    return x.reshape(x.shape[0] // views, views * x.shape[1], *x.shape[2:])


def views_from_width(x: Tensor, views: int) -> Tensor:
    """Cameras side by side in width (B, C, T, h, V*w) -> per-view clips (B*V, C, T, h, w)."""
    _check_views(views, x.shape[-1], "the width of side-by-side views")
    b, c, t, h, vw = x.shape
    x = x.reshape(b, c, t, h, views, vw // views).permute(0, 4, 1, 2, 3, 5)  # (B, V, C, T, h, w)
    return x.reshape(b * views, c, t, h, vw // views)


def views_to_width(x: Tensor, views: int) -> Tensor:
    """Per-view clips (B*V, C, T, h, w) -> side by side (B, C, T, h, V*w); inverse of the above."""
    _check_views(views, x.shape[0], "the batch of per-view clips")
    bv, c, t, h, w = x.shape
    x = x.reshape(bv // views, views, c, t, h, w).permute(0, 2, 3, 4, 1, 5)  # (B, C, T, h, V, w)
    return x.reshape(bv // views, c, t, h, views * w)


class ViewEmbedding(nn.Module):
    """A learned (num_views, channels) table; row v is broadcast over view v's frames and pixels."""

    def __init__(self, cfg: ViewEmbedConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.num_views, cfg.channels)

    def check_views(self, views: int) -> None:
        if views != self.cfg.num_views:
            raise ValueError(f"views={views}, but this model was trained for {self.cfg.num_views} views; "
                             f"pass exactly {self.cfg.num_views} camera views")

    def forward(self, x: Tensor, views: int) -> Tensor:
        """x (B, C, V*T, H, W) folded view-major -> (B, C + channels, V*T, H, W)."""
        self.check_views(views)
        _check_views(views, x.shape[2], "the folded frame count")
        b, _, vt, h, w = x.shape
        table = self.embedding.weight.to(x.dtype)  # (V, E)
        maps = table.t()[:, :, None, None, None].expand(-1, -1, vt // views, h, w)  # (E, V, T, H, W)
        maps = maps.reshape(1, self.cfg.channels, vt, h, w).expand(b, -1, -1, -1, -1)
        return torch.cat([x, maps], dim=1)
