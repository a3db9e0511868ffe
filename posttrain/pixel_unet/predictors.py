"""Two predictors on the same U-Net: deterministic regression, and EDM diffusion with a few Euler steps.

    pred = make_predictor("deterministic", UNetConfig(), EDMSettings())
    loss = pred.loss(context, actions, ctx_sigma, target, weight)   # (B, K, 3, H, W), (B, K, A), (B,), (B, 3, H, W)
    nxt = pred.predict(context, actions, generators)                # (B, 3, H, W), clean context at inference

Deterministic: the network's output is added to the last context frame. Diffusion: the change
from the last context frame to the next frame is denoised (so an untrained model, and every very
noisy step, lean towards repeating the frame); the network is the EDM denoiser's F (c_skip / c_out / c_in preconditioning, worldsim.diffusion.edm), trained
on lognormal noise levels and sampled with ``sample_steps`` Euler steps from sigma_max to 0 on the
Karras schedule (worldsim.diffusion.samplers), each env drawing noise from its own generator.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from posttrain.pixel_unet.config import PREDICTORS, EDMSettings, UNetConfig
from posttrain.pixel_unet.network import UNet
from worldsim.diffusion.edm import loss_weight, lognormal_sigma, preconditioning
from worldsim.diffusion.samplers import karras_sigmas


def weighted_mse(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    return (weight * (pred - target) ** 2).mean()


class DeterministicPredictor(nn.Module):
    kind = "deterministic"
    diffusion = False

    def __init__(self, net_cfg: UNetConfig, edm: Optional[EDMSettings] = None):
        super().__init__()
        self.net = UNet(dataclasses.replace(net_cfg, diffusion=False))

    def forward(self, context: Tensor, actions: Tensor, ctx_sigma: Tensor, base: Optional[Tensor] = None,
                layout: Optional[Tensor] = None) -> Tensor:
        """``base`` + the predicted change; ``base`` is the last context frame before any context noise
        (default: ``context[:, -1]``), so a pixel that does not change needs no denoising."""
        return (context[:, -1] if base is None else base) + self.net(context, actions, ctx_sigma, layout=layout)

    def loss(self, context, actions, ctx_sigma, target, weight, generator=None, base=None,
             layout=None) -> tuple[Tensor, Tensor]:
        """(loss, prediction) for one step; ``context`` may be noised, ``base`` is its clean last frame."""
        pred = self(context, actions, ctx_sigma, base, layout)
        return weighted_mse(pred, target, weight), pred

    @torch.no_grad()
    def predict(self, context: Tensor, actions: Tensor, generators: Optional[Sequence] = None,
                context_sigma: float = 0.0, layout: Optional[Tensor] = None) -> Tensor:
        """The next frame; ``context_sigma`` > 0 tells the network its context may be off by that much
        noise (it then cleans its own accumulated errors, as it learned on noised contexts)."""
        sigma = context.new_full((context.shape[0],), context_sigma)
        return self(context, actions, sigma, layout=layout).clamp(-1, 1)


class DiffusionPredictor(nn.Module):
    kind = "diffusion"
    diffusion = True

    def __init__(self, net_cfg: UNetConfig, edm: EDMSettings):
        super().__init__()
        self.net = UNet(dataclasses.replace(net_cfg, diffusion=True))
        self.edm = edm

    def denoise(self, noisy: Tensor, sigma: Tensor, context: Tensor, actions: Tensor, ctx_sigma: Tensor,
                layout: Optional[Tensor] = None) -> Tensor:
        """D(x, sigma) for noisy frame changes x (B, 3, H, W) at noise levels sigma (B,)."""
        c_skip, c_out, c_in, c_noise = (c.view(-1, 1, 1, 1) for c in preconditioning(sigma, self.edm.sigma_data))
        out = self.net(context, actions, ctx_sigma, c_in * noisy, c_noise.view(-1), layout)
        return c_skip * noisy + c_out * out

    def loss(self, context, actions, ctx_sigma, target, weight, generator=None, base=None,
             layout=None) -> tuple[Tensor, Tensor]:
        b = target.shape[0]
        sigma = lognormal_sigma(b, self.edm.p_mean, self.edm.p_std, self.edm.sigma_min, self.edm.sigma_max,
                                generator=generator)
        base = context[:, -1] if base is None else base
        change = target - base  # (B, 3, H, W)
        noise = torch.randn(target.shape, generator=generator)
        denoised = self.denoise(change + sigma.view(-1, 1, 1, 1) * noise, sigma, context, actions, ctx_sigma, layout)
        lam = loss_weight(sigma, self.edm.sigma_data).view(-1, 1, 1, 1)
        return weighted_mse(denoised, change, weight * lam), (base + denoised).detach()

    @torch.no_grad()
    def predict(self, context: Tensor, actions: Tensor, generators: Optional[Sequence] = None,
                steps: Optional[int] = None, context_sigma: float = 0.0, layout: Optional[Tensor] = None) -> Tensor:
        b = context.shape[0]
        shape = (3,) + tuple(context.shape[-2:])
        if generators is None:
            noise = torch.randn((b,) + shape)
        else:
            noise = torch.stack([torch.randn(shape, generator=g) for g in generators])
        sigmas = karras_sigmas(steps or self.edm.sample_steps, self.edm.sigma_min, self.edm.sigma_max, self.edm.rho)
        x, ctx_sigma = noise * sigmas[0], context.new_full((b,), context_sigma)
        for sigma, nxt in zip(sigmas[:-1], sigmas[1:]):
            denoised = self.denoise(x, sigma.expand(b), context, actions, ctx_sigma, layout)
            x = x + (nxt - sigma) * (x - denoised) / sigma   # Euler step of dx/dsigma
        return (context[:, -1] + x).clamp(-1, 1)


PREDICTOR_CLASSES = {"deterministic": DeterministicPredictor, "diffusion": DiffusionPredictor}


def make_predictor(kind: str, net_cfg, edm: EDMSettings) -> nn.Module:
    """A predictor of ``kind``: a U-Net one (``net_cfg`` a UNetConfig) or a Cosmos-style latent one
    (``latent_dit.py``; ``net_cfg`` a LatentDiTConfig)."""
    if kind.startswith("latent_"):
        from posttrain.pixel_unet.latent_dit import LATENT_CLASSES as classes
    else:
        classes = PREDICTOR_CLASSES
    if kind not in classes:
        raise ValueError(f"predictor={kind!r}; allowed: {', '.join(PREDICTORS)}")
    return classes[kind](net_cfg, edm)
