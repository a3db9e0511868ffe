"""Finite scalar quantization (Mentzer et al. 2023, "Finite Scalar Quantization: VQ-VAE Made Simple").

Each of the ``len(levels)`` latent channels is squashed by tanh into a bounded range and rounded
to one of ``levels[i]`` values; the codebook is the product grid, ``prod(levels)`` codes
([8, 8, 8, 5, 5, 5] -> 64,000), with no learned codebook and no commitment loss. Rounding passes
gradients straight through. Codes are returned normalised: an odd level L has the grid
``{-1, ..., 1}`` in steps ``2 / (L - 1)``; an even one ``{-1, ..., 1 - 2/L}`` in steps ``2 / L``.
The channel axis is ``dim`` (1 for (B, C, T, H, W) latents).

    fsq = FSQ([8, 8, 8, 5, 5, 5])
    codes, indices = fsq(z)              # z (B, 6, T, H, W) -> codes like z, indices (B, T, H, W)
    codes = fsq.indices_to_codes(indices)
"""

from __future__ import annotations

import math

import torch
from torch import nn


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round in the forward pass, identity in the backward pass."""
    return x + (x.round() - x).detach()


class FSQ(nn.Module):
    def __init__(self, levels: list[int] | tuple[int, ...], dim: int = 1, eps: float = 1e-3):
        super().__init__()
        if not levels or any(int(L) < 2 for L in levels):
            raise ValueError(f"fsq_levels={list(levels)}: need at least one level, each >= 2")
        self.dim, self.eps = dim, eps
        levels_t = torch.tensor([int(L) for L in levels], dtype=torch.long)
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.long), levels_t[:-1]]), 0)
        self.register_buffer("levels", levels_t, persistent=False)
        self.register_buffer("basis", basis, persistent=False)

    @property
    def num_channels(self) -> int:
        return len(self.levels)

    @property
    def codebook_size(self) -> int:
        return math.prod(self.levels.tolist())

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantize ``z``; returns (codes on the grid, straight-through; integer indices)."""
        if z.shape[self.dim] != self.num_channels:
            raise ValueError(
                f"FSQ expects {self.num_channels} channels (len(fsq_levels)) on dim {self.dim}, "
                f"got {z.shape[self.dim]}"
            )
        z = z.movedim(self.dim, -1)  # (..., D)
        codes = round_ste(self._bound(z)) / self._half_width()
        return codes.movedim(-1, self.dim), self._codes_to_indices_last(codes.detach())

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """Normalised grid codes (channels on ``dim``) -> integer indices in [0, codebook_size)."""
        return self._codes_to_indices_last(codes.movedim(self.dim, -1))

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """Integer indices -> normalised codes, with a new channel axis at ``dim``."""
        digits = (indices.unsqueeze(-1) // self.basis) % self.levels  # (..., D)
        codes = (digits - self._half_width()) / self._half_width()
        return codes.movedim(-1, self.dim if self.dim >= 0 else codes.ndim + self.dim)

    def _bound(self, z: torch.Tensor) -> torch.Tensor:
        """Squash (..., D) so that rounding gives exactly L values per channel (shifted for even L)."""
        half_l = (self.levels - 1) * (1 + self.eps) / 2  # the 1 + eps keeps atanh finite at L = 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half_l)
        return torch.tanh(z + shift) * half_l - offset

    def _half_width(self) -> torch.Tensor:
        return (self.levels // 2).to(torch.get_default_dtype())

    def _codes_to_indices_last(self, codes: torch.Tensor) -> torch.Tensor:
        digits = (codes * self._half_width() + self._half_width()).round().long()  # (..., D)
        return (digits * self.basis).sum(-1)
