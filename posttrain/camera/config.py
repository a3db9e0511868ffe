"""Typed configs of camera post-training: the task's, the sampler's, and what a base checkpoint fills in.

    cfg = resolve_config(CameraTaskConfig(data="runs/camera_orbits", base=""))   # pixels:4, default DiT
    net_cfg = model_config(cfg, codec)           # the CameraDiTConfig for that codec

``CameraTaskConfig`` is ``worldsim posttrain camera``'s (posttrain/camera/task.py); ``SamplingConfig``
says how the world model (posttrain/camera/world_model.py) generates a step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from posttrain.camera.model import CameraDiTConfig, default_dit
from posttrain.camera.motion import CameraMotionConfig
from posttrain.common.base import base_dit_config, base_task_config
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig

ARCHITECTURE = "camera_dit"
DEFAULT_CODEC = "pixels:4"


@dataclass
class SamplingConfig:
    steps: int = 6
    sampler: str = "euler"
    sigma_max: float = 80.0
    sigma_data: float = 0.5      # the training's (CameraTask sets it from edm.sigma_data)
    context_frames: int = 1


@dataclass
class CameraTaskConfig:
    data: str = ""
    base: str = ""                  # `worldsim train base` run/checkpoint; "" = the default DiT from scratch
    base_ema: bool = False
    tokenizer: str = ""             # "" = the base's tokenizer (pixels:4 without base)
    camera: str = "camera"
    clip_frames: int = 4            # at most this many latent frames per clip (1 conditioning)
    max_stride: int = 1             # clips take every s-th frame, s drawn from 1..max_stride per batch
    reverse: bool = True
    held_out: float = 0.1
    split_seed: int = 0
    latent_scale: float = 0.0       # 0 = the base's (1.0 without base)
    translation_scale: float = 0.25
    residual: bool = False          # diffuse generated frames as differences from the last conditioning frame
    eval_episodes: int = 8
    eval_horizon: int = 6
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    image_size: int = 0             # filled from the data
    intrinsics: list[float] = field(default_factory=list)   # filled from the data: K row-major (9,)
    motion: CameraMotionConfig = field(default_factory=CameraMotionConfig)   # filled from the data
    model: DiTConfig = field(default_factory=lambda: default_dit(48))
    edm: EDMConfig = field(default_factory=EDMConfig)

    def check(self) -> None:
        if self.max_stride < 1:
            raise ValueError(f"max_stride={self.max_stride} must be >= 1")
        if self.clip_frames < 2:
            raise ValueError(f"clip_frames={self.clip_frames} must be >= 2 (one conditioning, one generated)")
        if self.translation_scale <= 0:
            raise ValueError(f"translation_scale={self.translation_scale} must be > 0")
        if self.sampling.context_frames != self.model.num_cond_frames:
            raise ValueError(f"sampling.context_frames={self.sampling.context_frames} must equal "
                             f"model.num_cond_frames={self.model.num_cond_frames}")


def resolve_config(cfg: CameraTaskConfig) -> CameraTaskConfig:
    """Fill what the base checkpoint decides (tokenizer, latent scale, DiT) or the from-scratch defaults."""
    cfg.check()
    cfg = dataclasses.replace(cfg, sampling=dataclasses.replace(cfg.sampling, sigma_data=cfg.edm.sigma_data))
    if not cfg.base:
        return dataclasses.replace(cfg, tokenizer=cfg.tokenizer or DEFAULT_CODEC, latent_scale=cfg.latent_scale or 1.0)
    base = base_task_config(cfg.base)
    if cfg.tokenizer and cfg.tokenizer != base["tokenizer"]:
        raise ValueError(f"tokenizer={cfg.tokenizer} differs from {base['tokenizer']}, the one {cfg.base} was "
                         "trained on; leave tokenizer empty")
    return dataclasses.replace(cfg, tokenizer=base["tokenizer"], model=base_dit_config(cfg.base),
                               latent_scale=cfg.latent_scale or float(base.get("latent_scale", 1.0)))


def model_config(cfg: CameraTaskConfig, codec) -> CameraDiTConfig:
    return CameraDiTConfig(dit=cfg.model, spatial_compression=codec.cfg.spatial_compression,
                           temporal_compression=codec.cfg.temporal_compression,
                           translation_scale=cfg.translation_scale)
