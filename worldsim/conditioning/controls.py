"""Control maps and their weights for sim-to-real transfer: what a render gives the control branch.

    cfg = ControlsConfig(names=["edge", "segmentation"], edge=EdgeControlConfig(preset="low"))
    inputs = ControlInputs(rgb=frames, depth=depth, segmentation=seg, labels={1: "floor", ...})
    maps = compute_controls(inputs, cfg)      # {"edge": (T, 1, H, W), "segmentation": (T, 3, H, W)}
    weights = control_weights(inputs, cfg)    # {"edge": (T, H, W) float32, ...}, renormalised

Controls: ``depth`` (needs depth), ``segmentation`` (needs class ids), ``edge`` and ``blur``
(need RGB); ``REQUIRES`` says which, ``missing_inputs`` which of them an input lacks. Each
control's weight is a scalar, or (with ``where``: segmentation class names) ``weight`` on those
classes and ``elsewhere`` on the rest, e.g. edges on the pusher, segmentation on the background;
where the controls' weights sum above 1 they are divided by the sum (control_weights.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from worldsim.conditioning.control_maps import EDGE_PRESETS, blur_map, depth_map, edge_map, segmentation_map
from worldsim.conditioning.control_weights import renormalize, weight_map

CONTROLS = ("depth", "segmentation", "edge", "blur")
CHANNELS = {"depth": 1, "segmentation": 3, "edge": 1, "blur": 3}
REQUIRES = {"depth": "depth", "segmentation": "segmentation", "edge": "rgb", "blur": "rgb"}


@dataclass
class DepthControlConfig:
    """Depth normalised to [0, 1] between ``near`` and ``far`` metres (far=0: the clip's own range)."""

    near: float = 0.0
    far: float = 0.0
    weight: float = 1.0
    where: list[str] = field(default_factory=list)
    elsewhere: float = 0.0


@dataclass
class SegmentationControlConfig:
    max_classes: int = 256
    weight: float = 1.0
    where: list[str] = field(default_factory=list)
    elsewhere: float = 0.0


@dataclass
class EdgeControlConfig:
    """Canny thresholds from ``preset`` (low 50/100, medium 100/200, high 200/300)."""

    preset: str = "medium"
    weight: float = 1.0
    where: list[str] = field(default_factory=list)
    elsewhere: float = 0.0

    def thresholds(self) -> tuple[int, int]:
        if self.preset not in EDGE_PRESETS:
            raise ValueError(f"edge preset {self.preset!r}; allowed: {', '.join(EDGE_PRESETS)}")
        return EDGE_PRESETS[self.preset]


@dataclass
class BlurControlConfig:
    """Bilateral filter, then down/up-sampling by ``factor`` (4 to 16)."""

    factor: int = 8
    weight: float = 1.0
    where: list[str] = field(default_factory=list)
    elsewhere: float = 0.0

    def check(self) -> None:
        if not 4 <= self.factor <= 16:
            raise ValueError(f"blur factor={self.factor}; allowed 4 to 16")


@dataclass
class ControlsConfig:
    names: list[str] = field(default_factory=lambda: ["edge", "depth", "segmentation"])
    depth: DepthControlConfig = field(default_factory=DepthControlConfig)
    segmentation: SegmentationControlConfig = field(default_factory=SegmentationControlConfig)
    edge: EdgeControlConfig = field(default_factory=EdgeControlConfig)
    blur: BlurControlConfig = field(default_factory=BlurControlConfig)

    def check(self) -> None:
        check_names(self.names)
        self.edge.thresholds()
        self.blur.check()


def check_names(names) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in CONTROLS]
    if unknown or not names or len(set(names)) != len(names):
        bad = unknown[0] if unknown else names
        raise ValueError(f"control {bad!r} is not allowed; give distinct names from: {', '.join(CONTROLS)}")
    return names


@dataclass
class ControlInputs:
    """What controls are computed from, per frame: RGB uint8 (T, H, W, 3), metric depth (T, H, W)
    (inf = no hit), segmentation class ids (T, H, W) and their names."""

    rgb: Optional[np.ndarray] = None
    depth: Optional[np.ndarray] = None
    segmentation: Optional[np.ndarray] = None
    labels: dict[int, str] = field(default_factory=dict)

    def shape(self) -> tuple[int, int, int]:
        for value in (self.rgb, self.depth, self.segmentation):
            if value is not None:
                return tuple(value.shape[:3])
        raise ValueError("ControlInputs holds no rgb, depth or segmentation")


def missing_inputs(names, inputs: ControlInputs) -> dict[str, str]:
    """{control: input it needs and ``inputs`` lacks}."""
    return {n: REQUIRES[n] for n in check_names(names) if getattr(inputs, REQUIRES[n]) is None}


def compute_controls(inputs: ControlInputs, cfg: ControlsConfig) -> dict[str, np.ndarray]:
    """{control: float32 (T, C, H, W) in [0, 1]} for every name in ``cfg.names``."""
    cfg.check()
    missing = missing_inputs(cfg.names, inputs)
    if missing:
        name, need = next(iter(missing.items()))
        raise ValueError(f"control {name!r} needs {need}, which the input lacks")
    out = {}
    for name in cfg.names:
        if name == "depth":
            out[name] = depth_map(inputs.depth, cfg.depth.near, cfg.depth.far)
        elif name == "segmentation":
            out[name] = segmentation_map(inputs.segmentation, cfg.segmentation.max_classes)
        elif name == "edge":
            out[name] = edge_map(inputs.rgb, *cfg.edge.thresholds())
        else:
            out[name] = blur_map(inputs.rgb, cfg.blur.factor)
    return out


def control_weights(inputs: ControlInputs, cfg: ControlsConfig) -> dict[str, np.ndarray]:
    """{control: float32 (T, H, W)} from each control's weight settings, renormalised."""
    shape = inputs.shape()
    maps = {}
    for name in check_names(cfg.names):
        c = getattr(cfg, name)
        w = weight_map(c.weight, c.where, c.elsewhere, inputs.segmentation, inputs.labels, shape)
        maps[name] = np.broadcast_to(w, shape).astype(np.float32)
    return renormalize(maps)
