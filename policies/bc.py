"""The behaviour-cloning network: a small conv encoder on one camera plus an MLP on the low-dim state.

    net = BCNet(BCConfig(camera="top", image_size=64, agent_dim=2, env_dim=4, action_dim=2))
    net.set_normalization(state_mean, state_std, action_low, action_high)   # from dataset stats
    a_norm = net(images_uint8, state)          # (B, H, W, 3) uint8, (B, D) float -> (B, A) in ~[-1, 1]
    actions = net.unnormalize_action(a_norm)   # the env's action units

Normalization statistics are buffers, so a checkpoint carries them. Trained by
``worldsim train policy`` (``policies/bc_task.py``); run as a policy by
``policies.bc_policy.BCPolicy`` (spec ``bc:PATH``, see ``policies.bc_spec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class BCConfig:
    camera: str = "top"
    image_size: int = 64
    agent_dim: int = 2          # agent_pos size
    env_dim: int = 4            # environment_state size (0: not used)
    action_dim: int = 2
    channels: list[int] = field(default_factory=lambda: [16, 32, 64, 64])   # stride-2 convs
    image_features: int = 128
    state_features: int = 64
    hidden: int = 256
    use_image: bool = True
    use_state: bool = True

    def check(self) -> None:
        if not (self.use_image or self.use_state):
            raise ValueError("BCConfig needs use_image or use_state (or both)")
        if self.image_size % (2 ** len(self.channels)):
            raise ValueError(f"BCConfig.image_size {self.image_size} must be divisible by 2**len(channels)")

    @property
    def state_dim(self) -> int:
        return self.agent_dim + self.env_dim


class ImageEncoder(nn.Module):
    def __init__(self, cfg: BCConfig):
        super().__init__()
        layers, c_in = [], 3
        for c in cfg.channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.GELU()]
            c_in = c
        self.convs = nn.Sequential(*layers)
        side = cfg.image_size // 2 ** len(cfg.channels)
        self.proj = nn.Linear(c_in * side * side, cfg.image_features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, H, W, 3) uint8 -> (B, F)
        x = images.permute(0, 3, 1, 2).float().div(255.0).sub(0.5)  # (B, 3, H, W)
        return nn.functional.gelu(self.proj(self.convs(x).flatten(1)))


class BCNet(nn.Module):
    def __init__(self, cfg: BCConfig):
        super().__init__()
        cfg.check()
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg) if cfg.use_image else None
        self.state_mlp = nn.Sequential(nn.Linear(cfg.state_dim, cfg.state_features), nn.GELU()) if cfg.use_state else None
        width = cfg.image_features * cfg.use_image + cfg.state_features * cfg.use_state
        self.head = nn.Sequential(nn.Linear(width, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden),
                                  nn.GELU(), nn.Linear(cfg.hidden, cfg.action_dim))
        self.register_buffer("state_mean", torch.zeros(cfg.state_dim))
        self.register_buffer("state_std", torch.ones(cfg.state_dim))
        self.register_buffer("action_low", -torch.ones(cfg.action_dim))
        self.register_buffer("action_high", torch.ones(cfg.action_dim))

    @torch.no_grad()
    def set_normalization(self, state_mean, state_std, action_low, action_high) -> None:
        self.state_mean.copy_(torch.as_tensor(state_mean, dtype=torch.float32))
        self.state_std.copy_(torch.as_tensor(state_std, dtype=torch.float32).clamp(min=1e-6))
        self.action_low.copy_(torch.as_tensor(action_low, dtype=torch.float32))
        self.action_high.copy_(torch.maximum(torch.as_tensor(action_high, dtype=torch.float32), self.action_low + 1e-6))

    def normalize_action(self, action: torch.Tensor) -> torch.Tensor:  # (B, A) -> (B, A) in [-1, 1]
        return 2 * (action - self.action_low) / (self.action_high - self.action_low) - 1

    def unnormalize_action(self, action: torch.Tensor) -> torch.Tensor:
        return (action + 1) / 2 * (self.action_high - self.action_low) + self.action_low

    def forward(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 frames of ``cfg.camera`` and (B, agent_dim + env_dim) state -> (B, A)."""
        parts = []
        if self.encoder is not None:
            parts.append(self.encoder(images))  # (B, F_img)
        if self.state_mlp is not None:
            parts.append(self.state_mlp((state.float() - self.state_mean) / self.state_std))  # (B, F_state)
        return self.head(torch.cat(parts, dim=1))  # (B, A), normalized
