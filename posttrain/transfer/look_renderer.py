"""The look renderer: a canonical simulator render redrawn in a commanded look, the layout kept.

    renderer = LookRenderer(LookRendererConfig(classes=[...], look_dim=66, palette=[...]))
    frames = renderer(canonical, depth, classes, look)   # (B, 3, H, W) in [-1, 1], (B, H, W) metres,
                                                         # (B, H, W) class index, (B, look_dim) -> (B, 3, H, W)
    classes = class_indices(seg_ids, labels, renderer.cfg.classes)   # dataset ids -> the model's classes

A look is the parameters ``worldsim.looks.randomize`` draws (material colours and textures,
lights, exposure gain) as one vector (``worldsim/looks/vector.py``). The renderer is told the look; it does
not make one up, so every look is a seed away and repeatable, and the layout (from the canonical
frame, its depth and its segmentation) is the same in all of them. The pixel world model's U-Net
(``posttrain.pixel_unet.network``) takes the canonical frame as its one context frame, depth, one
map per segmentation class and the palette (each pixel painted with its class's material colour in
this look) as layout maps, and the look vector as its conditioning (every block's group-norm scale
and shift); its output is added to the canonical frame. It is trained on renders of the same
layouts in random looks (``look_train.py``); sensor noise is added afterwards
(``randomize.add_sensor_noise``), not learned.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from posttrain.pixel_unet.config import UNetConfig
from posttrain.pixel_unet.network import UNet
from posttrain.transfer.look_config import LookRendererConfig

FAR = 5.0   # (m) depth beyond this (or nothing hit) enters as this


def class_indices(seg: np.ndarray, labels: dict[int, str], classes: list[str]) -> np.ndarray:
    """Segmentation ids (any integer array) -> indices into ``classes`` by the ids' label names."""
    unknown = sorted({labels.get(int(i), f"id {int(i)} (unlabelled)") for i in np.unique(seg)} - set(classes))
    if unknown:
        raise ValueError(f"segmentation classes {unknown} are not ones the look renderer was trained on; "
                         f"it knows: {', '.join(classes)}")
    lookup = {i: classes.index(name) for i, name in labels.items() if name in classes}
    out = np.zeros(seg.shape, np.int64)
    for i, k in lookup.items():
        out[seg == i] = k
    return out


class LookRenderer(nn.Module):
    def __init__(self, cfg: LookRendererConfig):
        super().__init__()
        if cfg.look_dim < 1 or not cfg.classes or len(cfg.palette) != len(cfg.classes):
            raise ValueError(f"LookRendererConfig needs look_dim >= 1 (got {cfg.look_dim}), classes (got "
                             f"{cfg.classes}) and one palette entry per class (got {cfg.palette})")
        self.cfg = cfg
        self.net = UNet(UNetConfig(context=1, action_dim=cfg.look_dim, patch=cfg.patch, channels=list(cfg.channels),
                                   blocks=cfg.blocks, cond_dim=cfg.cond_dim, groups=cfg.groups,
                                   layout=cfg.layout_channels()))

    def layout(self, depth: Tensor, classes: Tensor, look: Tensor) -> Tensor:
        """(B, 1 + K + 3, H, W): depth, class one-hots, and the palette's colour map in [-1, 1]."""
        k = len(self.cfg.classes)
        depth = torch.nan_to_num(depth.float(), posinf=FAR).clamp(0, FAR)[:, None] / self.cfg.depth_unit
        onehot = F.one_hot(classes.long(), k).permute(0, 3, 1, 2).float()
        colours = torch.zeros(len(look), k, 3, dtype=look.dtype, device=look.device)
        for c, start in enumerate(self.cfg.palette):
            if start >= 0:
                colours[:, c] = look[:, start:start + 3] * 2 - 1
        paint = torch.einsum("bkhw,bkc->bchw", onehot, colours)
        return torch.cat([depth, onehot, paint], dim=1)

    def forward(self, canonical: Tensor, depth: Tensor, classes: Tensor, look: Tensor) -> Tensor:
        b = len(canonical)
        change = self.net(canonical[:, None], look[:, None], torch.zeros(b, device=canonical.device),
                          layout=self.layout(depth, classes, look))
        return canonical + change
