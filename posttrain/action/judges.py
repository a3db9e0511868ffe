"""Success and reward judges: read a latent frame, the (predicted) state and the action of a step.

    judges = Judges(JudgeConfig(latent_channels=16, latent_hw=(8, 8), state_dim=6, action_dim=2))
    judges.set_normalization(mean, std)                  # of the (D + E,) state, from training labels
    success_logit, reward = judges(latent, state, action) # (B, C, h, w), (B, D + E), (B, A) -> (B,), (B,)

They label a *step*: given frame t (its latent), the state at t and action t, they predict the
simulator's ``next.success`` and ``next.reward`` of that step, which is how LeRobot datasets
store them. (A dataset never stores the frame after the final step, and episodes end on success,
so a judge of frame t+1 alone would never see a successful frame in training.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class JudgeConfig:
    latent_channels: int = 16
    latent_hw: tuple[int, int] = (8, 8)
    state_dim: int = 6
    action_dim: int = 2
    channels: int = 32
    hidden: int = 96
    threshold: float = 0.5        # success when sigmoid(logit) exceeds it


class Judges(nn.Module):
    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        self.cfg = cfg
        h, w = ((n + 1) // 2 for n in cfg.latent_hw)
        self.conv_1 = nn.Conv2d(cfg.latent_channels, cfg.channels, 3, padding=1)
        self.conv_2 = nn.Conv2d(cfg.channels, cfg.channels, 3, stride=2, padding=1)
        self.mlp_1 = nn.Linear(cfg.channels * h * w + cfg.state_dim + cfg.action_dim, cfg.hidden)
        self.mlp_2 = nn.Linear(cfg.hidden, cfg.hidden)
        self.out = nn.Linear(cfg.hidden, 2)  # success logit, reward logit
        self.register_buffer("mean", torch.zeros(cfg.state_dim))
        self.register_buffer("std", torch.ones(cfg.state_dim))

    def set_normalization(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype).clamp_min(1e-6))

    def normalize_state(self, state: Tensor) -> Tensor:
        return (state - self.mean) / self.std

    def logits(self, latent: Tensor, normalized_state: Tensor, action: Tensor) -> Tensor:
        """(B, 2): success logit and reward logit."""
        h = F.gelu(self.conv_2(F.gelu(self.conv_1(latent)))).flatten(1)  # (B, ch * h/2 * w/2)
        h = torch.cat([h, normalized_state, action.to(h.dtype)], dim=-1)
        return self.out(F.gelu(self.mlp_2(F.gelu(self.mlp_1(h)))))

    def forward(self, latent: Tensor, state: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """-> success logit (B,), reward in [0, 1] (B,)."""
        out = self.logits(latent, self.normalize_state(state), action)
        return out[:, 0], torch.sigmoid(out[:, 1])

    def success(self, logit: Tensor) -> Tensor:
        return torch.sigmoid(logit) > self.cfg.threshold
