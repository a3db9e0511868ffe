"""One world-model step in latent space: the next latent frame from context and action.

    z_next = predict_next(net, context, action, PredictConfig(kind="diffusion", steps=3), generators)

``kind="deterministic"`` is one forward of the regression network (conv or DiT trunk); with
``deadband`` > 0 its changes smaller than that are dropped, so the static background stays exactly
static over a long rollout instead of drifting with the regression's small errors;
``kind="diffusion"`` integrates EDM's probability-flow ODE over ``steps`` Euler/Heun steps with
the context frames held clean. Noise for env i comes from ``generators[i]`` only, so a batch of
N envs gives each env the numbers it would get alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

from posttrain.action.frames import dit_inputs
from posttrain.action.losses import regress_next
from worldsim.diffusion.edm import make_denoiser
from worldsim.diffusion.samplers import karras_sigmas, sample

KINDS = ("deterministic", "diffusion")


@dataclass
class PredictConfig:
    kind: str = "deterministic"
    network: str = "conv"          # deterministic only: "conv" or "dit"
    steps: int = 3                 # diffusion only
    sampler: str = "euler"
    sigma_max: float = 80.0
    sigma_min: float = 0.002
    sigma_data: float = 0.5
    deadband: float = 0.0          # deterministic only: changes of a latent element below this are dropped

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}; allowed: {', '.join(KINDS)}")
        if self.deadband < 0:
            raise ValueError(f"deadband={self.deadband} must be >= 0")


def slot_noise(shape: tuple, generators: Optional[Sequence[torch.Generator]], device=None) -> Tensor:
    """(B, *shape[1:]) standard normal noise, row i drawn from generators[i] (or the global RNG)."""
    if generators is None:
        return torch.randn(shape, device=device)
    if len(generators) != shape[0]:
        raise ValueError(f"{len(generators)} generators for a batch of {shape[0]}")
    return torch.stack([torch.randn(shape[1:], generator=g) for g in generators]).to(device)


@torch.no_grad()
def predict_next(net, context: Tensor, action: Tensor, cfg: PredictConfig,
                 generators: Optional[Sequence[torch.Generator]] = None) -> Tensor:
    """context (B, C, K, h, w), action (B, A) -> next latent (B, C, h, w)."""
    if cfg.kind == "deterministic":
        out = regress_next(net, context, action, cfg.network)
        return out if cfg.deadband <= 0 else apply_deadband(context[:, :, -1], out, cfg.deadband)
    noise = slot_noise((context.shape[0], *context.shape[1:2], *context.shape[3:]), generators, context.device)
    x_cond, cond_mask, actions = dit_inputs(context, action, torch.zeros_like(noise))
    noise_clip = torch.cat([torch.zeros_like(context), noise[:, :, None]], dim=2)  # (B, C, K+1, h, w)
    denoiser = make_denoiser(net, cond_mask=cond_mask, x_cond=x_cond, sigma_data=cfg.sigma_data, actions=actions)
    sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=context.device)
    out = sample(denoiser, noise_clip, sigmas, method=cfg.sampler, cond_mask=cond_mask, x_cond=x_cond)
    return out[:, :, -1]


def apply_deadband(last: Tensor, pred: Tensor, deadband: float) -> Tensor:
    """``pred`` with every element that moved less than ``deadband`` from ``last`` reset to ``last``."""
    return torch.where((pred - last).abs() < deadband, last, pred)
