"""One step of the multi-view world model: the next frame of every view at once, in one pass per sampling step.

    z_next = predict_next_views(net, context, action, PredictConfig(kind="diffusion", steps=4), generators)
    # context (B, C, K, h, V*w) views side by side, action (B, A) -> (B, C, h, V*w)

``kind="deterministic"`` adds the network's change to the last context frame; ``"diffusion"``
integrates EDM's ODE with every view's context frames held clean. Env i's noise comes from
``generators[i]`` only.
"""

from __future__ import annotations

import torch

from posttrain.common.predict import PredictConfig, slot_noise
from posttrain.multiview.model import MultiViewDiT, last_frames, multiview_inputs
from worldsim.diffusion.edm import make_denoiser
from worldsim.diffusion.samplers import karras_sigmas, sample


def regress_next_views(net: MultiViewDiT, context: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Deterministic next frames (B, C, h, V*w): the last context frame plus the network's change."""
    last = context[:, :, -1]
    x, cond_mask, actions = multiview_inputs(context, action, last, net.num_views)
    c_noise = torch.zeros(x.shape[0], device=x.device)  # 0.25 ln(sigma = 1)
    return last + last_frames(net(x, c_noise, actions, cond_mask), net.num_views)


@torch.no_grad()
def predict_next_views(net: MultiViewDiT, context: torch.Tensor, action: torch.Tensor, cfg: PredictConfig,
                       generators=None) -> torch.Tensor:
    """context (B, C, K, h, V*w), action (B, A) -> next latents of every view (B, C, h, V*w), in one pass
    over all views per sampling step; env i's noise from ``generators[i]``."""
    if cfg.kind == "deterministic":
        return regress_next_views(net, context, action)
    views = net.num_views
    noise = slot_noise((context.shape[0], context.shape[1], *context.shape[3:]), generators, context.device)
    x_cond, cond_mask, actions = multiview_inputs(context, action, torch.zeros_like(noise), views)
    start = multiview_inputs(torch.zeros_like(context), action, noise, views)[0]
    denoiser = make_denoiser(net, cond_mask=cond_mask, x_cond=x_cond, sigma_data=cfg.sigma_data, actions=actions)
    sigmas = karras_sigmas(cfg.steps, cfg.sigma_min, cfg.sigma_max, device=context.device)
    out = sample(denoiser, start, sigmas, method=cfg.sampler, cond_mask=cond_mask, x_cond=x_cond)
    return last_frames(out, views)
