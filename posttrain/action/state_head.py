"""The state head: reads one latent frame and predicts the low-dimensional observation keys.

    head = StateHead(StateHeadConfig(latent_channels=16, agent_dim=2, env_dim=4))
    head.set_normalization(mean, std)                 # (D + E,) from the training labels
    agent_pos, env_state = head(latent)               # latent (B, C, h, w) -> (B, D), (B, E)

A world-model env fills ``agent_pos`` and ``environment_state`` from it (docs/design.md: low-dim keys
come from a state head reading the model's latents). Targets are regressed in normalised units;
the mean/std live in buffers, so a checkpoint carries them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class StateHeadConfig:
    latent_channels: int = 16
    latent_hw: tuple[int, int] = (8, 8)   # (h, w) of a latent frame (cameras side by side in w)
    agent_dim: int = 2
    env_dim: int = 4
    channels: int = 64
    hidden: int = 256


class StateHead(nn.Module):
    """Conv (3x3) -> GELU -> Conv (3x3, stride 2) -> GELU -> MLP on the flattened map."""

    def __init__(self, cfg: StateHeadConfig):
        super().__init__()
        self.cfg = cfg
        out_dim = cfg.agent_dim + cfg.env_dim
        self.conv_1 = nn.Conv2d(cfg.latent_channels, cfg.channels, 3, padding=1)
        self.conv_2 = nn.Conv2d(cfg.channels, cfg.channels, 3, stride=2, padding=1)
        h, w = ((n + 1) // 2 for n in cfg.latent_hw)
        self.mlp_1 = nn.Linear(cfg.channels * h * w, cfg.hidden)
        self.mlp_2 = nn.Linear(cfg.hidden, out_dim)
        self.register_buffer("mean", torch.zeros(out_dim))
        self.register_buffer("std", torch.ones(out_dim))

    def set_normalization(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype).clamp_min(1e-6))

    def normalized(self, latent: Tensor) -> Tensor:
        """(B, C, h, w) -> normalised (B, D + E)."""
        h = F.gelu(self.conv_2(F.gelu(self.conv_1(latent))))  # (B, ch, h/2, w/2)
        return self.mlp_2(F.gelu(self.mlp_1(h.flatten(1))))

    def forward(self, latent: Tensor) -> tuple[Tensor, Tensor]:
        state = self.normalized(latent) * self.std + self.mean  # (B, D + E)
        return state[:, : self.cfg.agent_dim], state[:, self.cfg.agent_dim:]

    def loss(self, latent: Tensor, target: Tensor) -> Tensor:
        """MSE in normalised units against the true (B, D + E) state."""
        return F.mse_loss(self.normalized(latent), (target - self.mean) / self.std)
