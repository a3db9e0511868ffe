"""``worldsim posttrain transfer``: control branches on a frozen base DiT, trained on random looks.

Starts from a ``worldsim train base`` checkpoint and trains one branch per control
(posttrain/transfer/model.py) to denoise randomised-look clips (worldsim/generation/transfer_data.py) given control
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

import torch
from torch import nn

from posttrain.common.base import load_base_weights
from posttrain.common.codec import load_codec
from posttrain.transfer.clips import ClipLoader, load_transfer_frames
from posttrain.transfer.config import (ARCHITECTURE, TransferTaskConfig, network_config, resolve_config,
                                       spatial_compression)
from posttrain.transfer.evaluate import evaluate_transfer
from posttrain.transfer.model import TransferDiT
from worldsim.data.clips import held_out_split
from worldsim.diffusion.edm import training_loss


def training_weights(names, batch: int, dropout: float, shape) -> dict[str, torch.Tensor]:
    """{name: (B, T, H, W)} 0/1 per sample, each control off with prob ``dropout``, at least one on."""
    keep = torch.rand(batch, len(names)) >= dropout  # (B, K)
    none = ~keep.any(1)
    keep[none, torch.randint(len(names), (int(none.sum()),))] = True
    return {n: keep[:, i].float().view(batch, 1, 1, 1).expand(batch, *shape) for i, n in enumerate(names)}


class TransferTask:
    name = ARCHITECTURE

    def __init__(self, cfg: TransferTaskConfig):
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
            net.copy_base_into_branches()
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
        if not self.eval_episodes:
            return {}
        return evaluate_transfer(model, self.codec, self.cfg, self.eval_episodes[: self.cfg.eval_clips])
