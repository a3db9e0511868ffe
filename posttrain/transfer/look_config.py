"""Typed configs of the look renderer (``look_renderer.py``) and its training run (``look_train.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

ARCHITECTURE = "look_renderer"


@dataclass
class LookRendererConfig:
    """A canonical render, its depth and segmentation, and a look's parameters -> the frame in that look."""

    image_size: int = 64
    classes: list[str] = field(default_factory=list)   # segmentation class names, one input map each
    look_dim: int = 0             # length of the look vector (worldsim/looks/vector.py)
    palette: list[int] = field(default_factory=list)   # per class, where its material's RGB sits in the look
                                                      # vector (-1: none); painted as a colour map
    scene_looks: dict = field(default_factory=dict)   # the scene's look snapshot (worldsim.looks.randomize
                                                      # SceneLooks.to_dict): where looks are drawn from
    depth_unit: float = 2.0       # (m) depth enters divided by this
    patch: int = 4
    channels: list[int] = field(default_factory=lambda: [48, 96, 128])
    blocks: int = 1
    cond_dim: int = 128
    groups: int = 8

    def layout_channels(self) -> int:
        return 1 + len(self.classes) + 3     # depth, one map per class, the palette's colour map


@dataclass
class LookTrainConfig:
    data: str = ""                # a `python -m posttrain.transfer.data` dataset (it carries observation.look)
    out: str = ""
    camera: str = "top"
    net: LookRendererConfig = field(default_factory=LookRendererConfig)
    steps: int = 3000
    batch_size: int = 16
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    input_looks: float = 0.0      # share of samples drawn from another look's frame instead of the canonical one
    holdout_layouts: int = 8      # the last layouts (all their looks), kept out for metrics.json
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1

    def validate(self) -> None:
        if not self.data or not self.out:
            raise ValueError("data=DATASET and out=RUN_FOLDER are required")
        if self.net.image_size % self.net.patch:
            raise ValueError(f"net.image_size={self.net.image_size} must be a multiple of net.patch={self.net.patch}")
        if not 0.0 <= self.input_looks <= 1.0:
            raise ValueError(f"input_looks={self.input_looks}; allowed: a share in [0, 1]")
        if self.holdout_layouts < 1:
            raise ValueError(f"holdout_layouts={self.holdout_layouts}; need at least 1 for metrics.json")
