"""The deterministic baseline: a small conv net regressing the next latent frame.

    net = ConvPredictor(ConvPredictorConfig(latent_channels=16, context_frames=1, action_dim=2))
    z_next = net(context, action)        # context (B, C, K, h, w), action (B, A) -> (B, C, h, w)

The context frames are stacked as channels, run through residual 3x3 conv blocks modulated by
the action (FiLM), and the output is added to the last context frame (so it starts as "nothing
moves"). docs/design.md holds every diffusion world model against such a predictor of the same latents
and training time. The same regression can also drive the DiT trunk (``network="dit"`` in the
action task); this module is the cheap CPU variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class ConvPredictorConfig:
    latent_channels: int = 16
    context_frames: int = 1
    action_dim: int = 2
    channels: int = 128
    blocks: int = 4


class FiLMResBlock(nn.Module):
    """x + conv(GELU(conv(GroupNorm(x) * (1 + scale) + shift))), scale/shift from the action."""

    def __init__(self, channels: int, cond_dim: int):
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.film = nn.Linear(cond_dim, 2 * channels)
        self.conv_1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)  # (B, ch, 1, 1) each
        h = self.norm(x) * (1 + scale) + shift
        return x + self.conv_2(F.gelu(self.conv_1(h)))


class ConvPredictor(nn.Module):
    def __init__(self, cfg: ConvPredictorConfig):
        super().__init__()
        self.cfg = cfg
        cond = 4 * cfg.channels
        self.action_mlp = nn.Sequential(nn.Linear(cfg.action_dim, cond), nn.GELU(), nn.Linear(cond, cond))
        self.conv_in = nn.Conv2d(cfg.latent_channels * cfg.context_frames, cfg.channels, 3, padding=1)
        self.blocks = nn.ModuleList(FiLMResBlock(cfg.channels, cond) for _ in range(cfg.blocks))
        self.conv_out = nn.Conv2d(cfg.channels, cfg.latent_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, context: Tensor, action: Tensor) -> Tensor:
        b, c, k, h, w = context.shape
        if (c, k) != (self.cfg.latent_channels, self.cfg.context_frames):
            raise ValueError(f"context must be (B, {self.cfg.latent_channels}, {self.cfg.context_frames}, h, w), "
                             f"got {tuple(context.shape)}")
        cond = self.action_mlp(action)  # (B, 4 ch)
        x = self.conv_in(context.reshape(b, c * k, h, w))  # (B, ch, h, w)
        for block in self.blocks:
            x = block(x, cond)
        return context[:, :, -1] + self.conv_out(F.gelu(x))  # (B, C, h, w)
