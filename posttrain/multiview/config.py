"""Typed config of multi-view post-training, and what a base checkpoint fills in.

    cfg = resolve_base(MultiViewTaskConfig(data="runs/drive_train", base=""), latent_channels=48)
    predict_config(cfg)      # how the world model steps (PredictConfig)

``MultiViewTaskConfig`` is ``worldsim posttrain multiview``'s (posttrain/multiview/task.py); without a
base the DiT is ``default_dit()`` (4 layers, hidden 128, patch 1x2x2) on ``pixels:4``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from posttrain.common.base import base_dit_config
from posttrain.common.predict import PredictConfig
from posttrain.multiview.model import StateDeltaHeadConfig
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig

ARCHITECTURE = "multiview_world_model"
PREDICTORS = ("diffusion", "deterministic")
DEFAULT_CODEC = "pixels:4"


def default_dit() -> DiTConfig:
    return DiTConfig(in_channels=0, patch_size=(1, 2, 2), hidden_size=128, num_layers=4, num_heads=4,
                     adaln_lora_dim=32, num_cond_frames=1, spec="auto")


@dataclass
class MultiViewTaskConfig:
    data: str = ""
    base: str = ""                   # a base video DiT; "" = from scratch with `model`
    base_ema: bool = False
    tokenizer: str = ""              # "" = the base's tokenizer, or pixels:4 (exact 4x4 pixel patches) without base
    cameras: list[str] = field(default_factory=list)   # [] = every camera of the dataset, in its order
    predictor: str = "diffusion"     # "diffusion" | "deterministic"
    context_frames: int = 2          # conditioning frames of every view per step
    view_channels: int = 7
    action_dim: int = 0              # 0 = the dataset's action size
    latent_scale: float = 1.0
    latent_cache: str = ""
    held_out: float = 0.1
    split_seed: int = 0
    context_noise: float = 0.0
    state_weight: float = 1.0
    eval_windows: int = 16
    sample_steps: int = 4
    sampler: str = "euler"
    sample_sigma_max: float = 80.0
    model: DiTConfig = field(default_factory=default_dit)
    edm: EDMConfig = field(default_factory=EDMConfig)
    state_head: StateDeltaHeadConfig = field(default_factory=StateDeltaHeadConfig)
    rig: dict = field(default_factory=dict)   # filled: {camera: {"K": 3x3, "pose": 4x4}} from the data
    sim: dict = field(default_factory=dict)   # filled: the simulator's id, kwargs and spaces

    def check(self) -> None:
        if self.predictor not in PREDICTORS:
            raise ValueError(f"predictor={self.predictor!r}; allowed: {', '.join(PREDICTORS)}")
        if self.context_frames < 1:
            raise ValueError(f"context_frames={self.context_frames} must be >= 1")


def predict_config(cfg: MultiViewTaskConfig) -> PredictConfig:
    return PredictConfig(kind=cfg.predictor, network="dit", steps=cfg.sample_steps, sampler=cfg.sampler,
                         sigma_max=cfg.sample_sigma_max, sigma_data=cfg.edm.sigma_data)


def resolve_base(cfg: MultiViewTaskConfig, latent_channels: int) -> MultiViewTaskConfig:
    """The DiT config: the base's sizes (if any), input widened by the view channels."""
    model = cfg.model
    if cfg.base:
        model = base_dit_config(cfg.base)
        if model.in_channels != latent_channels:
            raise ValueError(f"base {cfg.base} was trained on {model.in_channels}-channel latents, but "
                             f"tokenizer={cfg.tokenizer} gives {latent_channels}; use a base trained on the same "
                             f"codec, or base=\"\" to train from scratch")
    return dataclasses.replace(cfg, model=dataclasses.replace(model, in_channels=latent_channels + cfg.view_channels))
