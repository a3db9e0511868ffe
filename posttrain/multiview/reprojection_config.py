"""Typed config of the driving reprojection model's training run (``reprojection_train.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from posttrain.camera.reprojection_config import ViewFillerConfig

ARCHITECTURE = "driving_reprojection"


def driving_filler() -> ViewFillerConfig:
    """The camera model's filler, with the sky put far out (the car drives tens of metres)."""
    return ViewFillerConfig(image_size=64, far=1000.0, depth_unit=10.0, translation_unit=5.0)


@dataclass
class DrivingReprojectionTrainConfig:
    data: str = ""                # a `worldsim generate --env worldsim/DrivingMultiView-v0 ... depth=true camera_params=true`
    out: str = ""
    cameras: list[str] = field(default_factory=list)   # empty: every camera of the dataset
    net: ViewFillerConfig = field(default_factory=driving_filler)
    max_gap: int = 20             # steps between the reprojected rig and the target view
    steps: int = 3000
    batch_size: int = 12
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
