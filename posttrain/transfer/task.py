"""``worldsim posttrain transfer``: control branches on a frozen base DiT, trained on random looks.

Starts from a ``worldsim train base`` checkpoint and trains one branch per control
(posttrain/transfer/model.py) to denoise randomised-look clips (posttrain/transfer/data.py) given control
maps of the same layout. The base stays frozen (``train_base=false``, as in Cosmos-Transfer), so an
exported model needs only its branches. Without ``--base`` a fresh DiT (``model.*``, on the codec
``tokenizer=``, e.g. ``pixels:4``) is trained together with its branches (``train_base`` is then on):
the shipped TabletopPush model is of this kind, because the shipped 1x8x8 tokenizer, trained on
one look, reconstructs randomised looks at only 16-19 dB. Each training clip drops every control with
probability ``control_dropout`` (keeping at least one; the rest renormalised), so any subset of
controls works at inference, and gives its first frame clean with probability ``cond_prob``, so
episodes can be generated in chunks that continue one look.

    worldsim posttrain transfer --base assets/checkpoints/base_dit_tabletop --data runs/transfer/data \
        --out runs/transfer/model tokenizer=assets/checkpoints/tokenizer_tabletop_1x8x8 steps=1500

``evaluate`` generates held-out clips with several seeds and reports edge F1 and segmentation
agreement against the inputs, look diversity across seeds, the same for the base alone (no
branch) and for the tokenizer's reconstruction of the true randomised frames (the ceiling).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import nn

from posttrain.common.base import base_dit_config, base_task_config
from posttrain.common.codec import load_codec
from posttrain.transfer.model import TransferDiT, TransferDiTConfig, load_base_weights
from posttrain.transfer.clips import ClipLoader, load_transfer_frames
from worldsim.conditioning.controls import ControlsConfig
from worldsim.diffusion.dit import DiTConfig
from worldsim.diffusion.edm import EDMConfig, training_loss

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


def training_weights(names, batch: int, dropout: float, shape) -> dict[str, torch.Tensor]:
    """{name: (B, T, H, W)} 0/1 per sample, each control off with prob ``dropout``, at least one on."""
    keep = torch.rand(batch, len(names)) >= dropout  # (B, K)
    none = ~keep.any(1)
    keep[none, torch.randint(len(names), (int(none.sum()),))] = True
    return {n: keep[:, i].float().view(batch, 1, 1, 1).expand(batch, *shape) for i, n in enumerate(names)}


class TransferTask:
    name = ARCHITECTURE

    def __init__(self, cfg: TransferTaskConfig):
        from worldsim.data.clips import held_out_split

        self.cfg = cfg = resolve_config(cfg)
        self.codec = load_codec(cfg.tokenizer)
        self.frames = load_transfer_frames(cfg.data, self.codec, cfg.camera, cfg.controls, cfg.rgb_key)
        cfg.image_hw = list(self.frames.controls[cfg.controls.names[0]].shape[-2:])
        num = len(self.frames.starts) - 1
        self.train_episodes, self.eval_episodes = held_out_split(num, cfg.held_out, cfg.split_seed)
        if self.frames.latents.shape[1] != cfg.model.in_channels:
            raise ValueError(f"{cfg.tokenizer} gives {self.frames.latents.shape[1]} latent channels; the base "
                             f"{cfg.base} takes {cfg.model.in_channels}")

    def config(self) -> TransferTaskConfig:
        return self.cfg

    def build_model(self) -> nn.Module:
        net = TransferDiT(network_config(self.cfg, spatial_compression(self.codec)))
        if self.cfg.base:
            load_base_weights(net, self.cfg.base, ema=self.cfg.base_ema)
        net.dit.requires_grad_(self.cfg.train_base)
        return net

    def make_loader(self, batch_size: int, data_rank: int, data_world: int, seed: int) -> ClipLoader:
        return ClipLoader(self.frames, self.train_episodes, self.cfg.clip_len, batch_size, seed, data_rank, data_world)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        x0 = batch["latents"] / self.cfg.latent_scale  # (B, C, T, h, w)
        b, t = x0.shape[0], x0.shape[2]
        hw = next(iter(batch["controls"].values())).shape[-2:]
        weights = training_weights(list(batch["controls"]), b, self.cfg.control_dropout, (t, *hw))
        cond_mask = torch.zeros(b, t, dtype=torch.bool, device=x0.device)
        cond_mask[:, 0] = torch.rand(b) < self.cfg.cond_prob
        loss = training_loss(model, x0, cond_mask, self.cfg.edm, controls=batch["controls"],
                             weights={n: w.to(x0.device) for n, w in weights.items()})
        return loss, {}

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        from posttrain.transfer.evaluate import evaluate_transfer

        if not self.eval_episodes:
            return {}
        return evaluate_transfer(model, self.codec, self.cfg, self.eval_episodes[: self.cfg.eval_clips])
