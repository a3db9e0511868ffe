"""Cosmos-Transfer-style control branches on a base video DiT.

One branch per control modality: the control map (pixels) is folded onto the codec's latent grid
(space-to-depth by ``spatial_compression``), patchified like the latents and given its own patch
embedding; the branch adds it to the base's input tokens (``DiT.embed``) and runs trainable copies
of the base's first ``branch_blocks`` blocks. Block i's output passes a zero-initialised Linear,
is multiplied by the control's weight (a scalar or a per-pixel map, pooled to tokens) and summed
into the base's block i output through the DiT's ``block_residuals`` hook:

    net = TransferDiT(TransferDiTConfig(dit=base_cfg, controls=["edge", "depth"], branch_blocks=2))
    load_base_weights(net, "assets/checkpoints/base_dit_tabletop")   # posttrain.common.base
    net.copy_base_into_branches()                                    # its first blocks into every branch
    out = net(x, c_noise, controls={"edge": e, "depth": d}, weights={"edge": w, "depth": 1.0})
    # x (B, C, T, h, w) latents; e (B, 1, T, H, W), d (B, 1, T, H, W) in [0, 1]; w (B, T, H, W)

Right after ``load_base_weights`` and ``copy_base_into_branches`` the network computes exactly the
base model's function. Weights summing above 1 at a pixel are divided by their sum (worldsim/conditioning/control_weights.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldsim.conditioning.control_weights import renormalize
from worldsim.conditioning.controls import CHANNELS, check_names
from worldsim.diffusion.dit import BlockInputs, DiT, DiTConfig, PatchEmbed, patchify
from worldsim.diffusion.dit_block import DiTBlock
from worldsim.diffusion.layer_spec import get_layer_spec

Weight = Union[float, Tensor]


@dataclass
class TransferDiTConfig:
    dit: DiTConfig = field(default_factory=DiTConfig)
    controls: list[str] = field(default_factory=lambda: ["edge", "depth", "segmentation"])
    branch_blocks: int = 2
    spatial_compression: int = 8      # pixels per latent cell (the codec's)

    def check(self) -> None:
        check_names(self.controls)
        if not 1 <= self.branch_blocks <= self.dit.num_layers:
            raise ValueError(f"branch_blocks={self.branch_blocks}; allowed 1..{self.dit.num_layers} "
                             f"(the base has {self.dit.num_layers} blocks)")


def fold_pixels(maps: Tensor, factor: int) -> Tensor:
    """(B, C, T, H, W) -> (B, C*f*f, T, H/f, W/f): pixel maps on the latent grid."""
    b, c, t, h, w = maps.shape
    if h % factor or w % factor:
        raise ValueError(f"control maps of {h}x{w} do not divide into the codec's {factor}x{factor} cells")
    x = maps.reshape(b, c, t, h // factor, factor, w // factor, factor).permute(0, 1, 4, 6, 2, 3, 5)
    return x.reshape(b, c * factor * factor, t, h // factor, w // factor)


def weight_tokens(weight: Weight, tokens: int, batch: int, cell: tuple[int, int, int], ref: Tensor) -> Tensor:
    """A scalar or (B, T, H, W) pixel weight -> (S, B, 1) per token (mean over each token's pixels)."""
    if not isinstance(weight, Tensor) or weight.ndim == 0:
        return torch.as_tensor(weight, dtype=ref.dtype, device=ref.device).reshape(1, 1, 1).expand(tokens, batch, 1)
    if weight.ndim != 4 or weight.shape[0] != batch:
        raise ValueError(f"a control weight map must be (B, T, H, W) with B={batch}; got {tuple(weight.shape)}")
    pooled = F.avg_pool3d(weight[:, None].to(ref.dtype), kernel_size=cell, stride=cell)  # (B, 1, T', H', W')
    return pooled.flatten(2).permute(2, 0, 1)  # (S, B, 1)


def branch_blocks(cfg: DiTConfig, num_blocks: int) -> DiTBlock:
    """``num_blocks`` DiT layers built like the base's first ones (same spec, same layer numbers)."""
    short = dataclasses.replace(cfg, num_layers=num_blocks)
    tc = short.transformer_config()
    spec = get_layer_spec(short.spec, cross_attention=short.cross_attention, qk_norm=short.qk_norm,
                          ffn_hidden_size=tc.ffn_hidden_size)
    return DiTBlock(tc, spec, short.adaln_lora_dim)


class ControlBranch(nn.Module):
    """One modality: control patch embedding, copies of the first blocks, zero-initialised outputs."""

    def __init__(self, base: DiT, channels: int, num_blocks: int, factor: int):
        super().__init__()
        cfg = base.cfg
        volume = channels * factor * factor * cfg.patch_size[0] * cfg.patch_size[1] * cfg.patch_size[2]
        self.factor, self.patch = factor, cfg.patch_size
        self.control_embedder = PatchEmbed(volume, cfg.hidden_size)
        self.blocks = branch_blocks(cfg, num_blocks)
        self.zero_linears = nn.ModuleList(nn.Linear(cfg.hidden_size, cfg.hidden_size) for _ in range(num_blocks))
        for linear in self.zero_linears:
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)

    def copy_blocks_from(self, base: DiT) -> None:
        for i, block in enumerate(self.blocks.layers):
            block.load_state_dict(base.blocks.layers[i].state_dict())

    def forward(self, inputs: BlockInputs, control: Tensor) -> list[Tensor]:
        """control (B, C, T, H, W) in [0, 1] -> one (S, B, hidden) residual per branch block."""
        tokens, grid = patchify(fold_pixels(control * 2 - 1, self.factor), self.patch)  # (B, S, C*p)
        if grid != inputs.grid:
            raise ValueError(f"control maps give a token grid {grid}; the latents give {inputs.grid}")
        h = inputs.h + self.control_embedder(tokens).transpose(0, 1)  # (S, B, hidden)
        out = []
        for block, linear in zip(self.blocks.layers, self.zero_linears):
            h = block(h, inputs.emb, None, inputs.freqs, None, None, None)
            out.append(linear(h))
        return out


class TransferDiT(nn.Module):
    """``dit`` (the base, keys unchanged under ``dit.``) + ``branches.<control>``."""

    def __init__(self, cfg: TransferDiTConfig):
        super().__init__()
        cfg.check()
        self.cfg = cfg
        self.dit = DiT(cfg.dit)
        self.branches = nn.ModuleDict({name: ControlBranch(self.dit, CHANNELS[name], cfg.branch_blocks,
                                                           cfg.spatial_compression) for name in cfg.controls})

    def copy_base_into_branches(self) -> None:
        for branch in self.branches.values():
            branch.copy_blocks_from(self.dit)

    def branch_parameters(self):
        return self.branches.parameters()

    def residuals(self, x: Tensor, c_noise: Tensor, cond_mask, controls: Mapping[str, Tensor],
                  weights: Optional[Mapping[str, Weight]]) -> list[Optional[Tensor]]:
        unknown = [n for n in controls if n not in self.branches]
        if unknown:
            raise ValueError(f"control {unknown[0]!r} has no branch; this model has: {', '.join(self.branches)}")
        weights = renormalize({n: (weights or {}).get(n, 1.0) for n in controls})
        inputs = self.dit.embed(x, c_noise, None, cond_mask)
        cell = tuple(p * f for p, f in zip(self.cfg.dit.patch_size, (1, self.cfg.spatial_compression,
                                                                      self.cfg.spatial_compression)))
        total: list[Optional[Tensor]] = [None] * self.cfg.branch_blocks
        for name, control in controls.items():
            w = weight_tokens(weights[name], inputs.h.shape[0], x.shape[0], cell, inputs.h)  # (S, B, 1)
            for i, r in enumerate(self.branches[name](inputs, control)):
                total[i] = r * w if total[i] is None else total[i] + r * w
        return total

    def forward(self, x: Tensor, c_noise: Tensor, cond_mask: Optional[Tensor] = None,
                controls: Optional[Mapping[str, Tensor]] = None,
                weights: Optional[Mapping[str, Weight]] = None) -> Tensor:
        """x (B, C, T, h, w); controls {name: (B, C_k, T, H, W)} (none: the base alone) -> like x."""
        if not controls:
            return self.dit(x, c_noise, cond_mask=cond_mask)
        residuals = self.residuals(x, c_noise, cond_mask, controls, weights)
        return self.dit(x, c_noise, cond_mask=cond_mask, block_residuals=residuals)

