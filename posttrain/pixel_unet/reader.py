"""State from frames: where the pusher, the block and the goal are, read from a top-camera frame.

    reader = StateReader(ReaderConfig())
    fit_reader(reader, seg_frames, seg_labels, frames, states)    # simulator frames, their truth
    xy = reader(frames)            # float (B, 3, H, W) in [-1, 1] -> (B, 3 objects, 2) metres

Each pixel is classified by its colour (a per-pixel MLP, trained on the simulator's segmentation)
into background / pusher / block / goal; each object's position is the probability-weighted
centroid of its pixels (sub-pixel), mapped to table metres by a quadratic in the centroid fitted
by least squares on frames with known state (it absorbs the camera's perspective and each
object's height). The whole reader is a few thousand FLOPs per pixel, so a world model can read
every frame it generates, and a policy can act on what it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

OBJECTS = ("pusher", "block", "goal")


@dataclass
class ReaderConfig:
    objects: list[str] = field(default_factory=lambda: list(OBJECTS))
    hidden: int = 16
    floor: float = 0.3            # class probabilities below this weigh nothing in the centroid


def poly_features(uv: Tensor) -> Tensor:
    """(..., 2) pixel centroids in [0, 1] -> (..., 6): 1, u, v, u^2, uv, v^2."""
    u, v = uv[..., 0], uv[..., 1]
    return torch.stack([torch.ones_like(u), u, v, u * u, u * v, v * v], dim=-1)


class StateReader(nn.Module):
    def __init__(self, cfg: ReaderConfig):
        super().__init__()
        self.cfg = cfg
        n = len(cfg.objects)
        self.pixel = nn.Sequential(nn.Conv2d(3, cfg.hidden, 1), nn.SiLU(), nn.Conv2d(cfg.hidden, n + 1, 1))
        self.register_buffer("coef", torch.zeros(n, 6, 2))  # per object: centroid features -> metres

    def probabilities(self, frames: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, 1 + objects, H, W) class probabilities (0: background)."""
        return self.pixel(frames).softmax(dim=1)

    def centroids(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        """((B, objects, 2) centroid (u, v) in [0, 1], (B, objects) mass in pixels)."""
        p = self.probabilities(frames)[:, 1:]  # (B, n, H, W)
        w = (p - self.cfg.floor).clamp_min(0) / (1 - self.cfg.floor)
        h, wd = frames.shape[-2:]
        v = (torch.arange(h, dtype=frames.dtype) + 0.5) / h
        u = (torch.arange(wd, dtype=frames.dtype) + 0.5) / wd
        mass = w.sum(dim=(2, 3))  # (B, n)
        cu = (w.sum(dim=2) * u).sum(dim=2) / mass.clamp_min(1e-6)
        cv = (w.sum(dim=3) * v).sum(dim=2) / mass.clamp_min(1e-6)
        return torch.stack([cu, cv], dim=-1), mass

    def forward(self, frames: Tensor, previous: Tensor | None = None) -> Tensor:
        """(B, n, 2) metres; an object with less than a pixel of mass (not visible) keeps its
        ``previous`` position (B, n, 2) when given."""
        uv, mass = self.centroids(frames)
        xy = torch.einsum("bnf,nfk->bnk", poly_features(uv), self.coef)
        if previous is not None:
            xy = torch.where((mass < 1.0)[..., None], previous, xy)
        return xy


def class_targets(seg: np.ndarray, labels: dict, objects: list[str]) -> np.ndarray:
    """Segmentation ids (..., H, W) -> reader classes: 0 background, 1 + index of each object."""
    seg = seg[..., 0] if seg.shape[-1] == 1 else seg
    out = np.zeros(seg.shape, np.int64)
    for sid, name in labels.items():
        if name in objects:
            out[seg == int(sid)] = 1 + objects.index(name)
    return out


def fit_pixels(reader: StateReader, frames: Tensor, classes: Tensor, steps: int = 400, seed: int = 0) -> float:
    """Train the per-pixel colour classifier (class-balanced cross-entropy); returns the last loss."""
    gen = torch.Generator().manual_seed(seed)
    counts = torch.bincount(classes.flatten(), minlength=len(reader.cfg.objects) + 1).float()
    weight = (counts.sum() / counts.clamp_min(1)).sqrt()
    opt = torch.optim.Adam(reader.pixel.parameters(), lr=1e-2)
    for _ in range(steps):
        idx = torch.randint(len(frames), (16,), generator=gen)
        loss = F.cross_entropy(reader.pixel(frames[idx]), classes[idx], weight=weight / weight.mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


@torch.no_grad()
def fit_positions(reader: StateReader, frames: Tensor, positions: Tensor) -> None:
    """Least-squares quadratic from centroids to metres, per object: positions (F, objects, 2)."""
    uv, mass = reader.centroids(frames)
    for i in range(len(reader.cfg.objects)):
        seen = mass[:, i] > 2.0
        x = poly_features(uv[seen, i]).double()
        sol = torch.linalg.lstsq(x, positions[seen, i].double()).solution
        reader.coef[i] = sol.float()


def fit_reader(reader: StateReader, seg_frames: Tensor, seg_classes: Tensor, frames: Tensor, positions: Tensor) -> None:
    """Colour classes from segmentation, then the centroid-to-metres map from frames with known state."""
    fit_pixels(reader, seg_frames, seg_classes)
    fit_positions(reader, frames, positions)
