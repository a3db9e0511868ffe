"""The U-Net of the pixel world model: context frames stacked on channels, actions by adaptive group norm.

    net = UNet(UNetConfig())
    out = net(context, actions, ctx_sigma)               # deterministic: (B, 3, H, W) frame change
    out = net(context, actions, ctx_sigma, noisy, c_noise)  # diffusion: EDM network output F
    out = net(context, actions, ctx_sigma, layout=maps)  # state-grounded: (B, layout, H, W) maps of the next state

With ``views`` V > 1 the batch is B / V rigs of V views each (rig-major), and after the middle
block every position of every view of a rig attends to all of them (``ViewAttention``): what one
view paints can follow what its neighbours see.

``context`` (B, K, 3, H, W) in [-1, 1], oldest first (with ``anchor``: K + 1 frames, the
episode's first frame in front); ``actions`` (B, K, A): the K-1 actions
between the context frames and the action to take now; ``ctx_sigma`` (B,) the noise level of
the context frames (0 at inference). Frames enter through a lossless p x p pixel unshuffle (``patch``), so
the first level works at H/p x W/p with every pixel kept in its channels.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from posttrain.pixel_unet.config import UNetConfig


def noise_features(sigma: Tensor, dims: int = 8) -> Tensor:
    """Fourier features of log noise level: (B,) -> (B, dims)."""
    x = torch.log(sigma.clamp_min(1e-4))[:, None] * 0.25  # (B, 1)
    freqs = torch.arange(dims // 2, device=sigma.device, dtype=sigma.dtype)[None] + 1.0
    return torch.cat([torch.sin(x * freqs * math.pi), torch.cos(x * freqs * math.pi)], dim=1)


class AdaGroupNorm(nn.Module):
    """Group norm whose scale and shift come from the conditioning vector (zero-initialised)."""

    def __init__(self, channels: int, cond_dim: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(min(groups, channels), channels, affine=False)
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        scale, shift = self.proj(cond)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1) each
        return self.norm(x) * (1 + scale) + shift


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, cond_dim: int, groups: int):
        super().__init__()
        self.norm1, self.conv1 = AdaGroupNorm(c_in, cond_dim, groups), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2, self.conv2 = AdaGroupNorm(c_out, cond_dim, groups), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x, cond)))
        h = self.conv2(F.silu(self.norm2(h, cond)))
        return self.skip(x) + h


class ViewAttention(nn.Module):
    """Joint self-attention over the V views of a rig at the coarsest level: (B*V, C, h, w) features,
    each token one position of one view, with a learned embedding per view and per position; the
    output projection starts at zero, so the block starts as the identity."""

    def __init__(self, channels: int, views: int, tokens: int, groups: int, heads: int = 4):
        super().__init__()
        self.views = views
        self.norm = nn.GroupNorm(min(groups, channels), channels)
        self.embed = nn.Parameter(0.02 * torch.randn(views, tokens, channels))
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)
        nn.init.zeros_(self.attn.out_proj.weight)
        nn.init.zeros_(self.attn.out_proj.bias)

    def forward(self, x: Tensor) -> Tensor:
        bv, c, h, w = x.shape
        if bv % self.views or self.embed.shape[1] != h * w:
            raise ValueError(f"joint view attention takes rigs of {self.views} views with {self.embed.shape[1]} "
                             f"positions each, got a batch of {bv} with {h * w}")
        tokens = self.norm(x).flatten(2).transpose(1, 2).reshape(bv // self.views, self.views, h * w, c)
        tokens = (tokens + self.embed).flatten(1, 2)                       # (rigs, V*h*w, C)
        mixed, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        return x + mixed.reshape(bv, h * w, c).transpose(1, 2).reshape(bv, c, h, w)


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        frames_in = 3 * (cfg.context + cfg.anchor) + (3 if cfg.diffusion else 0) + cfg.layout
        chans = list(cfg.channels)
        self.cond = nn.Sequential(nn.Linear(cfg.context * cfg.action_dim + 16, cfg.cond_dim), nn.SiLU(),
                                  nn.Linear(cfg.cond_dim, cfg.cond_dim))
        self.stem = nn.Conv2d(cfg.patch ** 2 * frames_in, chans[0], 3, padding=1)
        block = lambda a, b: ResBlock(a, b, cfg.cond_dim, cfg.groups)  # noqa: E731
        self.down = nn.ModuleList([nn.ModuleList([block(c, c) for _ in range(cfg.blocks)]) for c in chans])
        self.downsample = nn.ModuleList([nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(chans, chans[1:])])
        self.middle = block(chans[-1], chans[-1])
        coarse = cfg.image_size // cfg.patch // 2 ** (len(chans) - 1)
        self.view_attention = ViewAttention(chans[-1], cfg.views, coarse ** 2, cfg.groups) if cfg.views > 1 else None
        self.upsample = nn.ModuleList([nn.Conv2d(b, a, 3, padding=1) for a, b in zip(chans, chans[1:])])
        self.up = nn.ModuleList([nn.ModuleList([block(2 * c if i == 0 else c, c) for i in range(cfg.blocks)])
                                 for c in chans])
        self.out_norm = nn.GroupNorm(min(cfg.groups, chans[0]), chans[0])
        self.head = nn.Conv2d(chans[0], 3 * cfg.patch ** 2, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        # diffusion: a noise-level-dependent gain on the noisy input, added to the output, so the
        # denoiser's pass-through of its input need not be learned through the whole U-Net
        self.noisy_gain = nn.Linear(cfg.cond_dim, 3) if cfg.diffusion else None
        if self.noisy_gain is not None:
            nn.init.zeros_(self.noisy_gain.weight)
            nn.init.zeros_(self.noisy_gain.bias)

    def forward(self, context: Tensor, actions: Tensor, ctx_sigma: Tensor, noisy: Optional[Tensor] = None,
                c_noise: Optional[Tensor] = None, layout: Optional[Tensor] = None) -> Tensor:
        b, k, _, h, w = context.shape
        if k != self.cfg.context + self.cfg.anchor:
            raise ValueError(f"the network takes {self.cfg.context} context frames"
                             f"{' after the anchor frame' if self.cfg.anchor else ''}, got {k} frames")
        x = context.reshape(b, 3 * k, h, w)
        if self.cfg.diffusion:
            x = torch.cat([x, noisy], dim=1)
        if self.cfg.layout:
            if layout is None or layout.shape[1] != self.cfg.layout:
                raise ValueError(f"the network takes {self.cfg.layout} layout maps of the next state, got "
                                 f"{None if layout is None else tuple(layout.shape)}")
            x = torch.cat([x, layout], dim=1)
        sig = noise_features(ctx_sigma) if c_noise is None else torch.cat(
            [noise_features(ctx_sigma)[:, :4], noise_features(c_noise.exp() ** 4)[:, :4]], dim=1)
        cond = self.cond(torch.cat([actions.reshape(b, -1), sig, sig], dim=1))  # (B, cond_dim)
        x = self.stem(F.pixel_unshuffle(x, self.cfg.patch))  # (B, C0, H/p, W/p)
        skips = []
        for level, blocks in enumerate(self.down):
            for blk in blocks:
                x = blk(x, cond)
            skips.append(x)
            if level < len(self.downsample):
                x = self.downsample[level](x)
        x = self.middle(x, cond)
        if self.view_attention is not None:
            x = self.view_attention(x)
        for level in reversed(range(len(self.up))):
            if level < len(self.upsample):
                x = self.upsample[level](F.interpolate(x, scale_factor=2, mode="nearest"))
            x = torch.cat([x, skips[level]], dim=1)
            for blk in self.up[level]:
                x = blk(x, cond)
        out = F.pixel_shuffle(self.head(F.silu(self.out_norm(x))), self.cfg.patch)  # (B, 3, H, W)
        if self.noisy_gain is not None:
            out = out + self.noisy_gain(cond)[:, :, None, None] * noisy
        return out
