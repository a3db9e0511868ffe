"""3D Haar wavelet patching: the tokenizer's first (and, inverted, last) layer.

One Haar level along an axis pairs neighbouring samples ``(a, b)`` into a low band
``(a + b) / sqrt(2)`` and a high band ``(a - b) / sqrt(2)`` stacked on the channel axis: the axis
halves, the channels double, and the map is orthonormal. Levels are applied to every band (a full
wavelet packet, as Cosmos does), so ``spatial_levels=2`` turns (C, H, W) into (16 C, H/4, W/4)
and ``temporal_levels=2`` adds 4x in time.

Causal first frame: a clip of ``1 + k * s_t`` frames (``s_t = 2 ** temporal_levels``) becomes
``1 + k`` wavelet frames. As in Cosmos, the first frame is repeated ``s_t`` times so it forms a
group of its own: its temporal high bands are zero and its low band is the frame's spatial
transform at the same scale as every other group's low band (scaling it down instead, to keep
the patcher an isometry, halves that band's scale at ``s_t = 4`` and a decoder then learns the
first frame far more slowly). :func:`unpatchify` inverts exactly and is the least-squares inverse
for any other input (a decoder's output): the first frame is the mean of its group. Images
(T = 1) go through the same code.

    patched = patchify(video, temporal_levels=2, spatial_levels=2)   # (B, 192, 1 + k, H/4, W/4)
    video = unpatchify(patched, temporal_levels=2, spatial_levels=2)  # (B, 3, 1 + 4k, H, W)
"""

from __future__ import annotations

import math

import torch

_T_DIM, _H_DIM, _W_DIM = 2, 3, 4


def _split(x: torch.Tensor, dim: int) -> torch.Tensor:
    """One orthonormal Haar step along ``dim``: halve it, double the channels as [low, high]."""
    pairs = x.unflatten(dim, (x.shape[dim] // 2, 2))
    a, b = pairs.select(dim + 1, 0), pairs.select(dim + 1, 1)
    return torch.cat([a + b, a - b], dim=1) / math.sqrt(2.0)


def _merge(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Inverse of :func:`_split`: halve the channels, interleave back along ``dim``."""
    low, high = x.chunk(2, dim=1)
    a, b = (low + high) / math.sqrt(2.0), (low - high) / math.sqrt(2.0)
    return torch.stack([a, b], dim=dim + 1).flatten(dim, dim + 1)


def _level_dims(level: int, temporal_levels: int, spatial_levels: int) -> list[int]:
    dims = [_T_DIM] if level < temporal_levels else []
    return dims + ([_H_DIM, _W_DIM] if level < spatial_levels else [])


def haar_forward(x: torch.Tensor, temporal_levels: int, spatial_levels: int) -> torch.Tensor:
    """Orthonormal Haar packet of (B, C, T, H, W); T, H, W divisible by their 2 ** levels.

    Returns (B, C * 2**lt * 4**ls, T / 2**lt, H / 2**ls, W / 2**ls).
    """
    _check_divisible(x, temporal_levels, spatial_levels)
    for level in range(max(temporal_levels, spatial_levels)):
        for dim in _level_dims(level, temporal_levels, spatial_levels):
            x = _split(x, dim)
    return x


def haar_inverse(x: torch.Tensor, temporal_levels: int, spatial_levels: int) -> torch.Tensor:
    """Exact inverse (and transpose) of :func:`haar_forward`."""
    factor = 2**temporal_levels * 4**spatial_levels
    if x.shape[1] % factor:
        raise ValueError(f"haar_inverse: {x.shape[1]} channels is not a multiple of {factor}")
    for level in reversed(range(max(temporal_levels, spatial_levels))):
        for dim in reversed(_level_dims(level, temporal_levels, spatial_levels)):
            x = _merge(x, dim)
    return x


def patchify(video: torch.Tensor, temporal_levels: int, spatial_levels: int) -> torch.Tensor:
    """(B, C, 1 + k*s_t, H, W) -> (B, C * s_t * s_s**2, 1 + k, H / s_s, W / s_s)."""
    s_t = 2**temporal_levels
    if (video.shape[_T_DIM] - 1) % s_t:
        raise ValueError(
            f"patchify: T={video.shape[_T_DIM]} frames; with {temporal_levels} temporal Haar "
            f"levels T must be 1 + k * {s_t} (e.g. {1 + s_t}, {1 + 2 * s_t})"
        )
    first = video[:, :, :1].expand(-1, -1, s_t, -1, -1)  # (B, C, s_t, H, W)
    grouped = torch.cat([first, video[:, :, 1:]], dim=_T_DIM)  # (B, C, (1 + k) s_t, H, W)
    return haar_forward(grouped, temporal_levels, spatial_levels)


def unpatchify(patched: torch.Tensor, temporal_levels: int, spatial_levels: int) -> torch.Tensor:
    """Least-squares inverse of :func:`patchify`: (B, C', 1 + k, h, w) -> (B, C, 1 + k*s_t, H, W)."""
    s_t = 2**temporal_levels
    grouped = haar_inverse(patched, temporal_levels, spatial_levels)  # (B, C, (1 + k) s_t, H, W)
    first = grouped[:, :, :s_t].mean(dim=_T_DIM, keepdim=True)  # (B, C, 1, H, W)
    return torch.cat([first, grouped[:, :, s_t:]], dim=_T_DIM)


def _check_divisible(x: torch.Tensor, temporal_levels: int, spatial_levels: int) -> None:
    if x.ndim != 5:
        raise ValueError(f"Haar transform expects (B, C, T, H, W), got shape {tuple(x.shape)}")
    axes = (("T", _T_DIM, temporal_levels), ("H", _H_DIM, spatial_levels), ("W", _W_DIM, spatial_levels))
    for name, dim, levels in axes:
        if x.shape[dim] % 2**levels:
            raise ValueError(f"Haar transform: {name}={x.shape[dim]} is not divisible by 2**{levels}")
