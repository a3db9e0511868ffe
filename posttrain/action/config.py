"""Typed configs of the action recipe's two training tasks, and what a base checkpoint fills in.

    cfg = resolve_config(ActionTaskConfig(data="runs/push_train", base="runs/base"))
    predict_config(cfg)      # how a world model steps with the trained network (PredictConfig)
    JudgeTaskConfig(data="runs/push_train", tokenizer="runs/tokenizer")

``ActionTaskConfig`` is ``worldsim posttrain action``'s (posttrain/action/task.py),
``JudgeTaskConfig`` ``worldsim train judge``'s (posttrain/action/judge_task.py). Each nests the
configs of its networks, which live beside the networks.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from posttrain.action.deterministic import ConvPredictorConfig
from posttrain.action.judges import JudgeConfig
from posttrain.action.state_head import StateHeadConfig
from posttrain.common.base import base_dit_config, base_task_config
from posttrain.common.latents import tokenizer_fingerprint
from posttrain.common.lora import LoRAConfig
from posttrain.common.predict import PredictConfig
from worldsim.config import to_dict
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig

PREDICTORS = ("diffusion", "deterministic")


@dataclass
class ActionTaskConfig:
    data: str = ""
    base: str = ""                   # `worldsim train base` run/checkpoint; "" = a fresh network
    base_ema: bool = False           # start from the base's EMA weights instead of its trained ones
    tokenizer: str = ""              # "" = the base model's tokenizer; or pixels:P (posttrain/common/codec.py)
    cameras: list[str] = field(default_factory=list)   # [] = the base's camera (all cameras without base)
    predictor: str = "diffusion"     # "diffusion" | "deterministic"
    network: str = "dit"             # "dit" | "conv" (conv: deterministic only)
    context_frames: int = 1
    action_dim: int = 0              # 0 = the dataset's action size
    latent_scale: Optional[float] = None   # None = the base's (1.0 without base)
    latent_cache: str = ""           # file for the encoded dataset ("" = keep in memory)
    held_out: float = 0.1
    split_seed: int = 0
    context_noise: float = 0.0       # std of noise on context latents in training (drift robustness)
    rollout_horizon: int = 1         # deterministic: train on H-step rollouts of its own predictions
    changed_weight: float = 0.0      # deterministic: extra loss weight on latent elements that change (moving objects)
    deadband: float = 0.0            # deterministic: a world-model step drops latent changes smaller than this
    init: str = ""                   # start from a predictor of this world-model folder ("FOLDER" or "FOLDER#NAME")
    state_weight: float = 1.0
    eval_windows: int = 64
    eval_horizon: int = 8
    eval_episodes: int = 4
    sample_steps: int = 3
    sampler: str = "euler"
    sample_sigma_max: float = 80.0
    model: DiTConfig = field(default_factory=DiTConfig)
    conv: ConvPredictorConfig = field(default_factory=ConvPredictorConfig)
    edm: EDMConfig = field(default_factory=EDMConfig)
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    state_head: StateHeadConfig = field(default_factory=StateHeadConfig)

    def check(self) -> None:
        if self.predictor not in PREDICTORS:
            raise ValueError(f"predictor={self.predictor!r}; allowed: {', '.join(PREDICTORS)}")
        if self.network not in ("dit", "conv"):
            raise ValueError(f"network={self.network!r}; allowed: 'dit', 'conv'")
        if self.predictor == "diffusion" and self.network != "dit":
            raise ValueError("predictor=diffusion needs network=dit (the conv net is a deterministic regressor)")
        if self.base and self.network != "dit":
            raise ValueError("base= loads a DiT; with network=conv leave base empty")
        if self.rollout_horizon < 1 or (self.rollout_horizon > 1 and self.predictor != "deterministic"):
            raise ValueError(f"rollout_horizon={self.rollout_horizon} must be >= 1, and 1 unless predictor=deterministic")
        if self.init and self.base:
            raise ValueError("init= (a world-model predictor) and base= (a base DiT) both set: pick one")


def resolve_config(cfg: ActionTaskConfig) -> ActionTaskConfig:
    """Fill what the base checkpoint decides: tokenizer, cameras, latent scale, DiT config."""
    cfg.check()
    if not cfg.base:
        return dataclasses.replace(cfg, latent_scale=cfg.latent_scale or 1.0)
    base = base_task_config(cfg.base)
    check_same_tokenizer(cfg.tokenizer, base["tokenizer"], cfg.base)
    return dataclasses.replace(
        cfg, tokenizer=cfg.tokenizer or base["tokenizer"], cameras=list(cfg.cameras) or [base["camera"]],
        latent_scale=cfg.latent_scale or float(base.get("latent_scale", 1.0)), model=base_dit_config(cfg.base))


def plain_config(cfg) -> dict:
    return json.loads(json.dumps(to_dict(cfg)))


def check_same_tokenizer(given: str, base_tokenizer: str, base: str) -> None:
    """The base DiT learned one tokenizer's latents; a different tokenizer is refused."""
    if given and Path(base_tokenizer).exists() and tokenizer_fingerprint(given) != tokenizer_fingerprint(base_tokenizer):
        raise ValueError(f"tokenizer={given} differs from {base_tokenizer}, the tokenizer {base} was trained with; "
                         f"pass that one (or leave tokenizer empty)")


def predict_config(cfg: ActionTaskConfig) -> PredictConfig:
    """How a world model steps with this network (kind, sampler, steps)."""
    return PredictConfig(kind=cfg.predictor, network=cfg.network, steps=cfg.sample_steps, sampler=cfg.sampler,
                         sigma_max=cfg.sample_sigma_max, sigma_data=cfg.edm.sigma_data,
                         deadband=cfg.deadband if cfg.predictor == "deterministic" else 0.0)


@dataclass
class JudgeTaskConfig:
    data: str = ""
    tokenizer: str = ""
    cameras: list[str] = field(default_factory=list)   # [] = every camera of the dataset
    latent_scale: float = 1.0        # the world model's (latents are divided by it)
    latent_cache: str = ""
    held_out: float = 0.1
    split_seed: int = 0
    state_noise: float = 0.05
    pos_weight: Optional[float] = None   # None = negatives / positives of the training rows (capped at 100)
    reward_weight: float = 1.0
    model: JudgeConfig = field(default_factory=JudgeConfig)
