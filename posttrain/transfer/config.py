"""Typed config of transfer post-training, and what the base checkpoint and the codec fill in.

    cfg = resolve_config(TransferTaskConfig(data="runs/transfer/data", base="assets/checkpoints/base_dit_tabletop"))
    net_cfg = network_config(cfg, spatial_compression(codec))   # the TransferDiTConfig
    scfg = sample_config(cfg)                                   # how evaluation and augment sample

``TransferTaskConfig`` is ``worldsim posttrain transfer``'s (posttrain/transfer/task.py); a trained
model's config.yaml holds it, so loading (posttrain/transfer/checkpoint.py) and ``worldsim augment``
read it back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from posttrain.common.base import base_dit_config, base_task_config
from posttrain.transfer.model import TransferDiTConfig
from posttrain.transfer.sample import TransferSampleConfig
from worldsim.conditioning.controls import ControlsConfig
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig

ARCHITECTURE = "transfer_dit"


@dataclass
class TransferTaskConfig:
    data: str = ""
    base: str = ""                  # `worldsim train base` run/checkpoint (required)
    base_ema: bool = False
    tokenizer: str = ""             # "" = the base's tokenizer
    camera: str = ""                # "" = the base's camera
    image_hw: list[int] = field(default_factory=list)   # filled from the data: the frames it was trained on
    rgb_key: str = ""               # frames for edge/blur ("" = observation.canonical.<cam> if present)
    controls: ControlsConfig = field(default_factory=ControlsConfig)
    branch_blocks: int = 2
    train_base: bool = False
    clip_len: int = 4
    cond_prob: float = 0.5
    control_dropout: float = 0.3
    latent_scale: Optional[float] = None
    held_out: float = 0.1
    split_seed: int = 0
    eval_clips: int = 4
    eval_seeds: int = 3
    sample_steps: int = 12
    sampler: str = "heun"
    model: DiTConfig = field(default_factory=DiTConfig)
    edm: EDMConfig = field(default_factory=EDMConfig)

    def check(self) -> None:
        if not self.base and not self.tokenizer:
            raise ValueError("without --base (a fresh DiT trained with its branches) give tokenizer=, e.g. pixels:4")
        if self.clip_len < 2:
            raise ValueError(f"clip_len={self.clip_len}; need at least 2 (episodes are generated in overlapping clips)")
        if not 0.0 <= self.cond_prob <= 1.0:
            raise ValueError(f"cond_prob={self.cond_prob}; allowed 0 to 1")
        if not 0.0 <= self.control_dropout < 1.0:
            raise ValueError(f"control_dropout={self.control_dropout}; allowed 0 to below 1")
        self.controls.check()


def resolve_config(cfg: TransferTaskConfig) -> TransferTaskConfig:
    """Fill what the base checkpoint decides: tokenizer, camera, latent scale, DiT config."""
    cfg.check()
    if not cfg.base:
        return dataclasses.replace(cfg, camera=cfg.camera or "top", latent_scale=cfg.latent_scale or 1.0,
                                   train_base=True)
    base = base_task_config(cfg.base)
    return dataclasses.replace(cfg, tokenizer=cfg.tokenizer or base["tokenizer"], camera=cfg.camera or base["camera"],
                               latent_scale=cfg.latent_scale or float(base.get("latent_scale", 1.0)),
                               model=base_dit_config(cfg.base))


def network_config(cfg: TransferTaskConfig, spatial_compression: int) -> TransferDiTConfig:
    return TransferDiTConfig(dit=cfg.model, controls=list(cfg.controls.names), branch_blocks=cfg.branch_blocks,
                             spatial_compression=spatial_compression)


def spatial_compression(codec) -> int:
    cfg = codec.cfg
    return int(getattr(cfg, "spatial_compression", None) or cfg.patch)


def sample_config(cfg, clip_len: int | None = None) -> TransferSampleConfig:
    return TransferSampleConfig(steps=cfg.sample_steps, sampler=cfg.sampler, sigma_data=cfg.edm.sigma_data,
                                clip_len=clip_len or cfg.clip_len, latent_scale=float(cfg.latent_scale))
