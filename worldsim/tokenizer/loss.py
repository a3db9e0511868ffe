"""Reconstruction loss of the video tokenizer: L1 + MSE + (1 - SSIM) + L1 on image gradients.

L1 alone is minimised by the per-pixel median, which on robot scenes is the background: small
objects (a pusher, a block) are outliers it learns to leave out. The squared term keeps them,
and ``foreground_weight`` weighs them up further: a pixel whose colour is more than
``foreground_threshold`` (in [-1, 1] units, any channel) from its frame's median colour (on a
table scene, the background) counts ``1 + foreground_weight`` times in the L1 and squared terms.

No pretrained perceptual network (nothing can be downloaded); SSIM and finite-difference
gradients stand in for it, pushing towards sharp edges that plain L1 blurs. Inputs are float
videos in [-1, 1], (B, C, T, H, W); the SSIM term is skipped for frames smaller than its window.

    loss, terms = reconstruction_loss(recon, video, ReconstructionLossConfig())
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from worldsim.tokenizer.metrics import ssim_unit


@dataclass
class ReconstructionLossConfig:
    l1_weight: float = 1.0
    l2_weight: float = 20.0
    ssim_weight: float = 0.2
    gradient_weight: float = 0.5
    ssim_window: int = 11
    foreground_weight: float = 0.0
    foreground_threshold: float = 0.15


def reconstruction_loss(
    recon: torch.Tensor, target: torch.Tensor, cfg: ReconstructionLossConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of the terms; returns (scalar loss, {term name: detached scalar})."""
    pixel = foreground_weights(target, cfg) if cfg.foreground_weight else 1.0
    terms = {"l1": (pixel * (recon - target).abs()).mean()}
    weights = {"l1": cfg.l1_weight}
    if cfg.l2_weight:
        terms["l2"] = (pixel * (recon - target).square()).mean()
        weights["l2"] = cfg.l2_weight
    if cfg.gradient_weight:
        terms["gradient"] = gradient_l1(recon, target)
        weights["gradient"] = cfg.gradient_weight
    if cfg.ssim_weight and min(target.shape[-2:]) >= cfg.ssim_window:
        terms["ssim"] = ssim_unit((recon + 1) / 2, (target + 1) / 2, cfg.ssim_window).mean()
        terms["1-ssim"] = 1.0 - terms["ssim"]
        weights["1-ssim"] = cfg.ssim_weight
    loss = sum(weights[name] * terms[name] for name in weights)
    return loss, {name: value.detach() for name, value in terms.items()}


def foreground_weights(target: torch.Tensor, cfg: ReconstructionLossConfig) -> torch.Tensor:
    """(B, 1, T, H, W): ``1 + foreground_weight`` where a pixel is far from its frame's median colour, else 1."""
    median = target.flatten(-2).median(dim=-1).values[..., None, None]  # (B, C, T, 1, 1)
    far = (target - median).abs().amax(dim=1, keepdim=True) > cfg.foreground_threshold
    return 1.0 + cfg.foreground_weight * far.to(target.dtype)


def gradient_l1(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance between horizontal and vertical finite differences of each frame."""
    loss = recon.new_zeros(())
    for dim in (-1, -2):
        loss = loss + (recon.diff(dim=dim) - target.diff(dim=dim)).abs().mean()
    return loss
