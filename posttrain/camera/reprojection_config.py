"""Typed configs of the reprojection camera model (``reprojection.py``) and its training run
(``reprojection_train.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

ARCHITECTURE = "camera_reprojection"


@dataclass
class ViewFillerConfig:
    """The first view's reprojection into the commanded camera, completed by a U-Net."""

    image_size: int = 64
    surface: str = "points"       # how the first views are seen again: "points" (splatted) or "mesh" (rasterized)
    supersample: int = 2          # points: points per source pixel side, so a camera moving closer leaves fewer cracks
    face_tolerance: float = 0.1   # mesh: a face spans a depth jump where inverse depth leaves its plane by this share
    far: float = 20.0             # (m) where pixels that hit nothing (the sky) are put
    depth_tolerance: float = 0.02  # relative depth within which points of one pixel are blended
    depth_unit: float = 1.0       # (m) the reprojected depth map enters divided by this
    translation_unit: float = 0.3  # (m) the camera's offset from the first enters divided by this
    holes_only: bool = False      # the network's output replaces only pixels no point landed on (hits kept exactly)
    views: int = 1                # > 1: a rig's views are completed together, attending to each other (rig-major batches)
    patch: int = 4
    channels: list[int] = field(default_factory=lambda: [48, 96, 128])
    blocks: int = 1
    cond_dim: int = 64
    groups: int = 8


SURFACES = ("points", "mesh")


def check_surface(net: ViewFillerConfig) -> None:
    if net.surface not in SURFACES:
        raise ValueError(f"net.surface={net.surface!r}: expected one of {list(SURFACES)}")
    if not 0 < net.face_tolerance:
        raise ValueError(f"net.face_tolerance={net.face_tolerance}: need > 0")
    if net.views < 1:
        raise ValueError(f"net.views={net.views}: need >= 1 (1: each view completed alone)")


@dataclass
class ViewFillerTrainConfig:
    data: str = ""                # a `python -m posttrain.camera.data ... depth=true` dataset
    out: str = ""
    camera: str = "camera"
    net: ViewFillerConfig = field(default_factory=ViewFillerConfig)
    max_gap: int = 12             # a sample reprojects frame j into frame t, 1 <= |t - j| <= max_gap
    steps: int = 3000
    batch_size: int = 16
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    holdout_episodes: int = 16    # the last episodes, kept out for metrics.json
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if self.max_gap < 1:
            raise ValueError(f"max_gap={self.max_gap}: need >= 1 (frames between the reprojected view and the target)")
        check_surface(self.net)
        if self.net.views != 1:
            raise ValueError(f"net.views={self.net.views}: the camera model completes one view (1)")
        if self.net.supersample < 1 or self.net.image_size % self.net.patch:
            raise ValueError(f"net.supersample={self.net.supersample} must be >= 1 and net.image_size="
                             f"{self.net.image_size} a multiple of net.patch={self.net.patch}")
