"""Sampling with a transfer model: a clip from controls and noise, or a whole episode in chunks.

    cfg = TransferSampleConfig(steps=12, clip_len=4)
    z = generate_clip(net, controls, weights, (16, 8, 8), seed=0, cfg=cfg)          # (B, C, T, h, w)
    frames = generate_episode(net, codec, controls, weights, seed=3, cfg=cfg)       # uint8 (L, H, W, 3)

``controls`` is {name: (B, C_k, T, H, W) in [0, 1]}; ``weights`` {name: float | (B, T, H, W)}.
An episode is generated in clips of ``clip_len`` frames that overlap by one: the first clip from
noise alone, each later one with its first frame given (the last frame generated so far), so a
look chosen by the seed carries through the episode. A different seed gives a different look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import torch
from torch import Tensor

from worldsim.diffusion.edm import make_denoiser
from worldsim.diffusion.samplers import karras_sigmas, sample


@dataclass
class TransferSampleConfig:
    steps: int = 12
    sampler: str = "heun"
    sigma_max: float = 80.0
    sigma_data: float = 0.5
    clip_len: int = 4
    latent_scale: float = 1.0


def control_tensors(maps: Mapping[str, np.ndarray]) -> dict[str, Tensor]:
    """{name: (T, C, H, W) numpy map} -> {name: (1, C, T, H, W) tensor}, one episode as a batch of one."""
    return {n: torch.from_numpy(np.ascontiguousarray(m)).permute(1, 0, 2, 3)[None] for n, m in maps.items()}


def weight_tensors(weights: Mapping[str, np.ndarray]) -> dict[str, Tensor]:
    """{name: (T, H, W) numpy weights} -> {name: (1, T, H, W) tensor}."""
    return {n: torch.from_numpy(np.ascontiguousarray(w))[None] for n, w in weights.items()}


def _slice(values: Optional[Mapping], start: int, stop: int) -> dict:
    out = {}
    for name, v in (values or {}).items():
        is_map = isinstance(v, Tensor) and v.ndim >= 4
        out[name] = (v[:, :, start:stop] if v.ndim == 5 else v[:, start:stop]) if is_map else v
    return out


@torch.no_grad()
def generate_clip(net, controls: Mapping[str, Tensor], weights, latent_shape, seed: int,
                  cfg: TransferSampleConfig, first: Optional[Tensor] = None, frames: int = 0) -> Tensor:
    """Latents (B, C, T, h, w) for T control frames (none: B=1, T=``frames`` or clip_len);
    ``first`` (B, C, h, w) fixes frame 0 if given."""
    ref = next(iter(controls.values())) if controls else None
    b, t = (ref.shape[0], ref.shape[2]) if ref is not None else (1, frames or cfg.clip_len)
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn((b, *latent_shape[:1], t, *latent_shape[1:]), generator=gen)  # (B, C, T, h, w)
    cond_mask = x_cond = None
    if first is not None:
        cond_mask = torch.zeros(b, t, dtype=torch.bool)
        cond_mask[:, 0] = True
        x_cond = torch.zeros_like(noise)
        x_cond[:, :, 0] = first / cfg.latent_scale
    denoiser = make_denoiser(net, cond_mask, x_cond, sigma_data=cfg.sigma_data, controls=dict(controls),
                             weights=weights)
    sigmas = karras_sigmas(cfg.steps, sigma_max=cfg.sigma_max)
    return sample(denoiser, noise, sigmas, cfg.steps, cfg.sampler, cond_mask, x_cond) * cfg.latent_scale


@torch.no_grad()
def decode_frames(codec, latents: Tensor) -> np.ndarray:
    """(B, C, T, h, w) -> uint8 (B, T, H, W, 3), each frame decoded alone."""
    frames = torch.stack([codec.decode(latents[:, :, i:i + 1])[:, :, 0] for i in range(latents.shape[2])], 1)
    return ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()


@torch.no_grad()
def generate_episode(net, codec, controls: Mapping[str, Tensor], weights, seed: int,
                     cfg: TransferSampleConfig, latent_shape, length: int = 0) -> np.ndarray:
    """uint8 (L, H, W, 3) for an episode's controls {name: (1, C_k, L, H, W)} (none: the base alone
    for ``length`` frames)."""
    length = next(iter(controls.values())).shape[2] if controls else length
    if cfg.clip_len < 2 or length < 1:
        raise ValueError(f"clip_len={cfg.clip_len} (need >= 2) and length={length} (need >= 1)")
    out, start, last = [], 0, None
    while True:
        stop = min(start + cfg.clip_len, length)
        z = generate_clip(net, _slice(controls, start, stop), _slice(weights, start, stop), latent_shape,
                          seed * 100_003 + start, cfg, first=last, frames=stop - start)
        out.append(z if last is None else z[:, :, 1:])
        if stop == length:
            break
        last, start = z[:, :, -1], stop - 1
    return decode_frames(codec, torch.cat(out, dim=2))[0]
