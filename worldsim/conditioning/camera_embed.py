"""Camera conditioning for the DiT (Cosmos style): Plücker maps patchified to the token grid and
added, through a zero-initialised Linear per block, to each block's AdaLN-normalised
self-attention input (the DiT hook ``attn_input_adds``).

A latent token covers ``patch_size`` latent cells, i.e. (p_t * c_t, p_h * s, p_w * s) video
pixels for a codec with temporal compression c_t and spatial compression s; the Plücker map
(B, 6, T_video, H, W) is cut into exactly those blocks, in the (t, h, w) token order of
``worldsim.diffusion.dit.patchify``. With c_t > 1 the first frame is repeated c_t - 1 times in
front, as the causal tokenizer encodes the first frame alone.

    embed = CameraEmbedder(CameraEmbedConfig(hidden_size=256, num_layers=4, spatial_compression=4))
    adds = embed(rays)                              # rays (B, 6, T, H, W) -> num_layers x (S, B, hidden)
    out = dit(x, c_noise, cond_mask=cond, attn_input_adds=adds)

Every projection starts at zero, so a freshly added embedder leaves the base model's function
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from worldsim.diffusion.dit import patchify

RAY_CHANNELS = 6


@dataclass
class CameraEmbedConfig:
    hidden_size: int = 256
    num_layers: int = 4
    patch_size: tuple[int, int, int] = (1, 2, 2)   # the DiT's
    spatial_compression: int = 8                    # the codec's
    temporal_compression: int = 1

    def pixel_patch(self) -> tuple[int, int, int]:
        """Video pixels per token: (p_t * c_t, p_h * s, p_w * s)."""
        pt, ph, pw = self.patch_size
        s = self.spatial_compression
        return pt * self.temporal_compression, ph * s, pw * s

    def in_features(self) -> int:
        pt, ph, pw = self.pixel_patch()
        return RAY_CHANNELS * pt * ph * pw


def patchify_rays(rays: Tensor, cfg: CameraEmbedConfig) -> Tensor:
    """Plücker map (B, 6, T, H, W) -> per-token features (B, S, 6 * pixels per token)."""
    if rays.ndim != 5 or rays.shape[1] != RAY_CHANNELS:
        raise ValueError(f"rays must be (B, {RAY_CHANNELS}, T, H, W), got {tuple(rays.shape)}")
    ct = cfg.temporal_compression
    if ct > 1:
        if (rays.shape[2] - 1) % ct:
            raise ValueError(f"{rays.shape[2]} frames do not make whole latent frames: need 1 + k * {ct}")
        rays = torch.cat([rays[:, :, :1].expand(-1, -1, ct - 1, -1, -1), rays], dim=2)  # first frame alone
    tokens, _ = patchify(rays, cfg.pixel_patch())
    return tokens


class CameraEmbedder(nn.Module):
    """Per block: Linear(6 * pixels per token -> hidden), no bias, zero-initialised."""

    def __init__(self, cfg: CameraEmbedConfig):
        super().__init__()
        self.cfg = cfg
        self.proj = nn.ModuleList(nn.Linear(cfg.in_features(), cfg.hidden_size, bias=False)
                                  for _ in range(cfg.num_layers))
        for layer in self.proj:
            nn.init.zeros_(layer.weight)

    def forward(self, rays: Tensor) -> list[Tensor]:
        """rays (B, 6, T, H, W) -> one (S, B, hidden) tensor per block."""
        tokens = patchify_rays(rays.to(self.proj[0].weight.dtype), self.cfg).transpose(0, 1)  # (S, B, F)
        return [layer(tokens) for layer in self.proj]
