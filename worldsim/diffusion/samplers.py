"""EDM samplers: Euler and Heun over a Karras sigma schedule, conditioning frames held fixed.

A sampler takes any ``denoiser(x, sigma) -> x0_hat`` (for a DiT: ``edm.make_denoiser(model, ...)``)
and integrates the probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma from sigma_max
down to 0. Conditioning frames (``cond_mask`` (B, T)) are set to ``x_cond`` before the first step
and after every step:

    sigmas = karras_sigmas(35)                                       # (36,), last is 0
    x0 = sample(make_denoiser(model, cond_mask, x_cond=x), noise, sigmas, method="heun",
                cond_mask=cond_mask, x_cond=x)                       # noise (B, C, T, H, W) ~ N(0, 1)
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

from worldsim.diffusion.edm import frame_mask

Denoiser = Callable[[Tensor, Tensor], Tensor]
METHODS = ("euler", "heun")


def karras_sigmas(steps: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0,
                  device=None) -> Tensor:
    """``steps`` noise levels from sigma_max to sigma_min, even in sigma^(1/rho), then 0: (steps+1,)."""
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    inv_max, inv_min = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    sigmas = (inv_max + ramp * (inv_min - inv_max)) ** rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)]).float().to(device)


def _impose(x: Tensor, cond: Optional[Tensor], x_cond: Optional[Tensor]) -> Tensor:
    return x if cond is None else torch.where(cond.bool(), x_cond, x)


def _slope(denoiser: Denoiser, x: Tensor, sigma: Tensor) -> Tensor:
    """dx/dsigma = (x - D(x, sigma)) / sigma."""
    sigma_b = sigma.expand(x.shape[0])  # (B,)
    return (x - denoiser(x, sigma_b)) / sigma


def step(denoiser: Denoiser, x: Tensor, sigma: Tensor, sigma_next: Tensor, method: str) -> Tensor:
    """One Euler step; Heun adds a trapezoidal correction (not on the last step to sigma=0)."""
    d = _slope(denoiser, x, sigma)
    x_next = x + (sigma_next - sigma) * d
    if method == "heun" and sigma_next > 0:
        d_next = _slope(denoiser, x_next, sigma_next)
        x_next = x + (sigma_next - sigma) * 0.5 * (d + d_next)
    return x_next


@torch.no_grad()
def sample(denoiser: Denoiser, noise: Tensor, sigmas: Optional[Tensor] = None, steps: int = 35,
           method: str = "euler", cond_mask: Optional[Tensor] = None,
           x_cond: Optional[Tensor] = None) -> Tensor:
    """Integrate from ``noise * sigmas[0]`` to sigma=0; noise (B, C, T, H, W) -> samples."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    if (cond_mask is None) != (x_cond is None):
        raise ValueError("pass cond_mask and x_cond together (or neither)")
    sigmas = karras_sigmas(steps, device=noise.device) if sigmas is None else sigmas.to(noise.device)
    cond = None if cond_mask is None else frame_mask(cond_mask, noise)  # (B, 1, T, 1, 1)
    x = _impose(noise * sigmas[0], cond, x_cond)
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        x = _impose(step(denoiser, x, sigma, sigma_next, method), cond, x_cond)
    return x
