"""Typed config of the driving reprojection model's training run (``reprojection_train.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from posttrain.camera.reprojection_config import ViewFillerConfig, check_surface

ARCHITECTURE = "driving_reprojection"


def driving_filler() -> ViewFillerConfig:
    """The camera model's filler, with the sky put far out (the car drives tens of metres), the first
    views as meshes, what they saw kept exactly, and the six views completed together."""
    return ViewFillerConfig(image_size=64, far=1000.0, depth_unit=10.0, translation_unit=5.0, surface="mesh",
                            holes_only=True, views=6)


@dataclass
class DrivingReprojectionTrainConfig:
    data: str = ""                # a `worldsim generate --env worldsim/DrivingMultiView-v0 ... depth=true camera_params=true`
    out: str = ""
    cameras: list[str] = field(default_factory=list)   # empty: every camera of the dataset
    net: ViewFillerConfig = field(default_factory=driving_filler)
    max_gap: int = 20             # steps between the reprojected rig and the target view
    steps: int = 3000
    batch_size: int = 18          # views: three moments of the six-camera rig
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    holdout_episodes: int = 6
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if self.max_gap < 1:
            raise ValueError(f"max_gap={self.max_gap}: need >= 1")
        check_surface(self.net)
        if self.batch_size % self.net.views:
            raise ValueError(f"batch_size={self.batch_size} counts views: a multiple of net.views={self.net.views}")
