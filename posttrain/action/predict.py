"""One step of the action world model in latent space: the next latent frame from context and action.

    z_next = predict_next(net, context, action, PredictConfig(kind="diffusion", steps=3), generators)

``PredictConfig`` (posttrain/common/predict.py) says how. ``kind="deterministic"`` is one forward
of the regression network (conv or DiT trunk); with ``deadband`` > 0 its changes smaller than that
are dropped, so the static background stays exactly static over a long rollout instead of drifting
with the regression's small errors; ``kind="diffusion"`` integrates EDM's probability-flow ODE over ``steps`` Euler/Heun steps with
the context frames held clean. Noise for env i comes from ``generators[i]`` only, so a batch of
N envs gives each env the numbers it would get alone.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from posttrain.action.frames import dit_inputs
from posttrain.action.losses import regress_next
from posttrain.common.predict import PredictConfig, slot_noise
from worldsim.diffusion.edm import make_denoiser
from worldsim.diffusion.samplers import karras_sigmas, sample


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
