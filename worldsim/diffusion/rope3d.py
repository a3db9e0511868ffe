"""3D rotary position embedding over a (t, h, w) token grid, in megatron's rotary layout.

The head dimension D is split into three even parts (t gets the remainder, h and w get
2 * (D // 6) each); each part rotates by its own axis position. Frequencies come out as
``[S, 1, 1, D]`` angles for megatron's ``apply_rotary_pos_emb`` (non-interleaved: channel i pairs
with i + D/2, so the angle vector is ``cat([a_t, a_h, a_w] * 2)``):

    freqs = rope3d_freqs((T, H, W), head_dim=64)              # (T*H*W, 1, 1, 64), sbhd batches
    freqs = rope3d_packed([(T1, H, W), (T2, H, W)], 64)        # (S1+S2, 1, 1, 64), THD batches

For a packed (THD) batch the per-sample tables are concatenated: megatron's THD path sees
``freqs.size(0) == cu_seqlens[-1]`` and gives every token its own row, so packed and unpacked
batches rotate each token identically and share one code path. (TE's fused THD RoPE does not
take per-token tables: keep ``apply_rope_fusion=False``.)
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

Grid = tuple[int, int, int]


def split_head_dim(head_dim: int) -> tuple[int, int, int]:
    """(d_t, d_h, d_w): even parts summing to ``head_dim``."""
    d_hw = 2 * (head_dim // 6)
    d_t = head_dim - 2 * d_hw
    if head_dim % 2 or d_hw == 0 or d_t <= 0:
        raise ValueError(f"3D RoPE needs an even head_dim >= 6, got head_dim={head_dim}")
    return d_t, d_hw, d_hw


def axis_angles(positions: Tensor, dim: int, theta: float) -> Tensor:
    """positions (N,) -> angles (N, dim/2), frequencies theta^(-2i/dim)."""
    inv_freq = theta ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,)
    return positions.double()[:, None] * inv_freq[None, :]


def rope3d_freqs(grid: Grid, head_dim: int, theta: float = 10000.0, t_start: int = 0,
                 device=None) -> Tensor:
    """Rotary angles for a (T, H, W) grid, tokens in (t, h, w) raster order: (T*H*W, 1, 1, D)."""
    t, h, w = grid
    d_t, d_h, d_w = split_head_dim(head_dim)
    tt, hh, ww = torch.meshgrid(
        torch.arange(t_start, t_start + t), torch.arange(h), torch.arange(w), indexing="ij"
    )  # (T, H, W) each
    half = torch.cat(
        [axis_angles(tt.flatten(), d_t, theta), axis_angles(hh.flatten(), d_h, theta),
         axis_angles(ww.flatten(), d_w, theta)], dim=-1,
    )  # (S, D/2)
    freqs = torch.cat([half, half], dim=-1).float()  # (S, D)
    return freqs[:, None, None, :].to(device)


def rope3d_packed(grids: Sequence[Grid], head_dim: int, theta: float = 10000.0,
                  device=None) -> Tensor:
    """Per-token angles for a packed batch: the samples' tables back to back, (sum S_i, 1, 1, D)."""
    return torch.cat([rope3d_freqs(g, head_dim, theta, device=device) for g in grids], dim=0)
