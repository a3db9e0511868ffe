"""EDM preconditioning, training noise levels and the denoising loss (Karras et al. 2022).

The network F sees ``c_in * x`` and ``c_noise = 0.25 ln(sigma)``; the denoiser is
``D(x, sigma) = c_skip * x + c_out * F``, with sigma_data = 0.5:

    c_skip = sd^2 / (sigma^2 + sd^2)   c_out = sigma * sd / sqrt(sigma^2 + sd^2)
    c_in = 1 / sqrt(sigma^2 + sd^2)     weight = (sigma^2 + sd^2) / (sigma * sd)^2

Video-to-world conditioning as in Cosmos: frames marked in ``cond_mask`` (B, T) enter clean
(or with a small augmentation noise ``sigma_cond``), are preconditioned at their own noise level,
come out of the denoiser as the given clean latents, and carry no loss:

    loss = training_loss(model, x0, cond_mask, EDMConfig())          # x0 (B, C, T, H, W)
    x0_hat = denoise(model, x_noisy, sigma, cond_mask, x_cond=x0)      # sigma (B,)

Sampling loops live in ``samplers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Optional

import torch
from torch import Tensor


@dataclass
class EDMConfig:
    """Noise levels for training. ``cond_noise_aug``: noise the conditioning frames with
    sigma ~ lognormal(cond_aug_p_mean, cond_aug_p_std) (Cosmos predict1: -3, 2)."""

    sigma_data: float = 0.5
    p_mean: float = 0.0
    p_std: float = 1.0
    sigma_min: float = 2e-4
    sigma_max: float = 80.0
    cond_noise_aug: bool = False
    cond_aug_p_mean: float = -3.0
    cond_aug_p_std: float = 2.0


def preconditioning(sigma: Tensor, sigma_data: float = 0.5) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(c_skip, c_out, c_in, c_noise), each shaped like ``sigma``."""
    total = sigma**2 + sigma_data**2
    c_skip = sigma_data**2 / total
    c_out = sigma * sigma_data / total.sqrt()
    c_in = 1.0 / total.sqrt()
    c_noise = 0.25 * torch.log(sigma.clamp_min(1e-20))
    return c_skip, c_out, c_in, c_noise


def loss_weight(sigma: Tensor, sigma_data: float = 0.5) -> Tensor:
    """lambda(sigma) = 1 / c_out^2: unit-variance regression targets at every noise level."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def lognormal_sigma(batch: int, p_mean: float, p_std: float, lo: float, hi: float,
                    generator: Optional[torch.Generator] = None, device=None) -> Tensor:
    """sigma = exp(p_mean + p_std * n), n ~ N(0, 1), clipped to [lo, hi]: (B,)."""
    n = torch.randn(batch, generator=generator, device=device)
    return torch.exp(p_mean + p_std * n).clamp(lo, hi)


def frame_mask(cond_mask: Optional[Tensor], x: Tensor) -> Tensor:
    """(B, T) bool or None -> float (B, 1, T, 1, 1), 1 on conditioning frames."""
    b, _, t = x.shape[:3]
    if cond_mask is None:
        return x.new_zeros(b, 1, t, 1, 1)
    if tuple(cond_mask.shape) != (b, t):
        raise ValueError(f"cond_mask has shape {tuple(cond_mask.shape)}, expected (B, T)=({b}, {t})")
    return cond_mask.to(x.dtype).reshape(b, 1, t, 1, 1)


def _per_sample(value, batch: int, like: Tensor) -> Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(batch)  # (B,)


def denoise(model, x: Tensor, sigma, cond_mask: Optional[Tensor] = None,
            x_cond: Optional[Tensor] = None, sigma_cond=0.0, sigma_data: float = 0.5,
            **model_kwargs) -> Tensor:
    """D(x, sigma) for x (B, C, T, H, W) at noise ``sigma`` (B,) or scalar; conditioning frames are
    at ``sigma_cond`` and, where ``x_cond`` is given, come back as ``x_cond``."""
    b = x.shape[0]
    sigma = _per_sample(sigma, b, x)
    cond = frame_mask(cond_mask, x)  # (B, 1, T, 1, 1)
    sigma_cond = _per_sample(sigma_cond, b, x)
    sigma_f = torch.lerp(sigma.view(b, 1, 1, 1, 1), sigma_cond.view(b, 1, 1, 1, 1), cond)  # per frame
    c_skip, c_out, c_in, _ = preconditioning(sigma_f, sigma_data)  # (B, 1, T, 1, 1)
    c_noise = preconditioning(sigma, sigma_data)[3]  # (B,)
    out = model(c_in * x, c_noise, cond_mask=cond_mask, **model_kwargs)
    d = c_skip * x + c_out * out
    if x_cond is not None:
        d = torch.where(cond.bool(), x_cond, d)
    return d


def make_denoiser(model, cond_mask: Optional[Tensor] = None, x_cond: Optional[Tensor] = None,
                  sigma_cond=0.0, sigma_data: float = 0.5, **model_kwargs):
    """``denoiser(x, sigma)`` for the samplers, with conditioning and model kwargs bound."""
    return partial(denoise, model, cond_mask=cond_mask, x_cond=x_cond, sigma_cond=sigma_cond,
                   sigma_data=sigma_data, **model_kwargs)


def training_loss(model, x0: Tensor, cond_mask: Optional[Tensor] = None,
                  cfg: Optional[EDMConfig] = None, generator: Optional[torch.Generator] = None,
                  **model_kwargs) -> Tensor:
    """Weighted denoising loss on the non-conditioning frames of clean latents x0 (B, C, T, H, W)."""
    cfg = cfg or EDMConfig()
    b = x0.shape[0]
    sigma = lognormal_sigma(b, cfg.p_mean, cfg.p_std, cfg.sigma_min, cfg.sigma_max, generator, x0.device)
    sigma_cond = torch.zeros_like(sigma)
    if cfg.cond_noise_aug:
        sigma_cond = lognormal_sigma(b, cfg.cond_aug_p_mean, cfg.cond_aug_p_std, 0.0, cfg.sigma_max,
                                     generator, x0.device)
    cond = frame_mask(cond_mask, x0)  # (B, 1, T, 1, 1)
    sigma_f = torch.lerp(sigma.view(b, 1, 1, 1, 1), sigma_cond.view(b, 1, 1, 1, 1), cond)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    x = x0 + sigma_f * noise
    d = denoise(model, x, sigma, cond_mask, x_cond=x0, sigma_cond=sigma_cond,
                sigma_data=cfg.sigma_data, **model_kwargs)
    keep = (1.0 - cond).expand_as(x0)  # (B, C, T, H, W)
    weighted = loss_weight(sigma, cfg.sigma_data).view(b, 1, 1, 1, 1) * (d - x0) ** 2
    return (weighted * keep).sum() / keep.sum().clamp_min(1.0)


def training_loss_packed(model, x0s: list[Tensor], cond_masks: list[Tensor],
                         cfg: Optional[EDMConfig] = None, generator: Optional[torch.Generator] = None,
                         **model_kwargs) -> Tensor:
    """``training_loss`` for variable-length clips x0s[i] (C, T_i, H, W) run as one packed sequence.

    Each clip draws its own sigma; the loss averages over every non-conditioning element of all
    clips, as the padded batch would without its padding.
    """
    cfg = cfg or EDMConfig()
    b = len(x0s)
    sigma = lognormal_sigma(b, cfg.p_mean, cfg.p_std, cfg.sigma_min, cfg.sigma_max, generator, x0s[0].device)
    noisy, c_ins, c_skips, c_outs, conds = [], [], [], [], []
    for i, (x0, m) in enumerate(zip(x0s, cond_masks)):
        cond = m.to(x0.dtype).reshape(1, -1, 1, 1)                      # (1, T_i, 1, 1)
        sigma_f = sigma[i] * (1.0 - cond)                                # clean conditioning frames
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        c_skip, c_out, c_in, _ = preconditioning(sigma_f, cfg.sigma_data)
        noisy.append(x0 + sigma_f * noise)
        c_ins.append(c_in), c_skips.append(c_skip), c_outs.append(c_out), conds.append(cond)
    c_noise = preconditioning(sigma, cfg.sigma_data)[3]                  # (B,)
    outs = model([c * x for c, x in zip(c_ins, noisy)], c_noise, cond_mask=cond_masks, **model_kwargs)
    total, count = x0s[0].new_zeros(()), x0s[0].new_zeros(())
    for i, (x0, x, out) in enumerate(zip(x0s, noisy, outs)):
        d = c_skips[i] * x + c_outs[i] * out
        keep = (1.0 - conds[i]).expand_as(x0)                             # (C, T_i, H, W)
        total = total + (loss_weight(sigma[i], cfg.sigma_data) * (d - x0) ** 2 * keep).sum()
        count = count + keep.sum()
    return total / count.clamp_min(1.0)
