"""Causal building blocks of the video tokenizer, all on (B, C, T, H, W) tensors.

Every block is causal in time: output frame t depends only on input frames <= t. Spatial work
(1x3x3 convolutions, normalisation, spatial attention) runs frame by frame; temporal work
(3x1x1 convolutions, temporal attention) sees only the past, with the first frame replicated
as padding. So one model encodes images (T = 1) and videos, and a clip's prefix encodes the same
whether or not later frames follow.

    block = ResBlock(32, 64)                 # (B, 32, T, H, W) -> (B, 64, T, H, W)
    down = Downsample(64, spatial=True, temporal=True)   # T = 1 + 2m -> 1 + m, H, W halved
    up = Upsample(64, spatial=True, temporal=True)       # T = 1 + m -> 1 + 2m, H, W doubled
    mid = MidBlock(64, attention=True)       # res, spatial attn, causal temporal attn, res
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class FrameNorm(nn.Module):
    """GroupNorm over (C, H, W) of each frame separately, so it never mixes frames."""

    def __init__(self, channels: int, max_groups: int = 32):
        super().__init__()
        self.norm = nn.GroupNorm(math.gcd(max_groups, channels), channels, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        frames = x.transpose(1, 2).reshape(B * T, C, H, W)
        return self.norm(frames).reshape(B, T, C, H, W).transpose(1, 2)


class CausalConv3d(nn.Module):
    """Conv3d padded in time only on the past (by replicating the first frame), zeros in space."""

    def __init__(self, in_ch: int, out_ch: int, kernel: tuple[int, int, int], stride=(1, 1, 1)):
        super().__init__()
        kt, kh, kw = kernel
        self.time_pad = kt - 1
        self.conv = nn.Conv3d(in_ch, out_ch, kernel, stride=stride, padding=(0, kh // 2, kw // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_pad:
            first = x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1)
            x = torch.cat([first, x], dim=2)  # (B, C, time_pad + T, H, W)
        return self.conv(x)


def factorized_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    """A 1x3x3 spatial convolution followed by a 3x1x1 causal temporal one."""
    return nn.Sequential(CausalConv3d(in_ch, out_ch, (1, 3, 3)), CausalConv3d(out_ch, out_ch, (3, 1, 1)))


class ResBlock(nn.Module):
    """Pre-norm residual block of two factorized causal convolutions."""

    def __init__(self, in_ch: int, out_ch: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.conv1 = FrameNorm(in_ch), factorized_conv(in_ch, out_ch)
        self.norm2, self.conv2 = FrameNorm(out_ch), factorized_conv(out_ch, out_ch)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv3d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Downsample(nn.Module):
    """Halve H and W (strided 1x3x3 conv) and/or T (causal strided 3x1x1 conv, 1 + 2m -> 1 + m)."""

    def __init__(self, channels: int, spatial: bool, temporal: bool):
        super().__init__()
        self.spatial = nn.Conv3d(channels, channels, (1, 3, 3), stride=(1, 2, 2)) if spatial else None
        self.temporal = CausalConv3d(channels, channels, (3, 1, 1), stride=(2, 1, 1)) if temporal else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spatial is not None:
            x = self.spatial(F.pad(x, (0, 1, 0, 1)))  # (B, C, T, H/2, W/2)
        if self.temporal is not None:
            x = self.temporal(x)  # (B, C, 1 + (T-1)/2, H, W)
        return x


class Upsample(nn.Module):
    """Double T (first frame kept single, 1 + m -> 1 + 2m) and/or H, W; each followed by a conv."""

    def __init__(self, channels: int, spatial: bool, temporal: bool):
        super().__init__()
        self.temporal = CausalConv3d(channels, channels, (3, 1, 1)) if temporal else None
        self.spatial = CausalConv3d(channels, channels, (1, 3, 3)) if spatial else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.temporal is not None:
            x = x.repeat_interleave(2, dim=2)[:, :, 1:]  # (B, C, 2T - 1, H, W)
            x = self.temporal(x)
        if self.spatial is not None:
            x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest")  # (B, C, T, 2H, 2W)
            x = self.spatial(x)
        return x


class _Attention(nn.Module):
    """Residual single-stream self-attention over sequences that subclasses cut from the video."""

    causal = False

    def __init__(self, channels: int, num_heads: int = 1):
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"attention: channels={channels} not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.norm = FrameNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = self.to_sequences(self.norm(x))  # (N, L, C)
        q, k, v = self.qkv(seq).unflatten(-1, (3, self.num_heads, -1)).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)  # (N, heads, L, d)
        out = self.proj(out.transpose(1, 2).flatten(2))  # (N, L, C)
        return x + self.from_sequences(out, x.shape)

    def to_sequences(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def from_sequences(self, seq: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        raise NotImplementedError


class SpatialAttention(_Attention):
    """Each frame attends over its own H*W positions (no mixing across time)."""

    def to_sequences(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 4, 1).flatten(0, 1).flatten(1, 2)  # (B*T, H*W, C)

    def from_sequences(self, seq: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        B, C, T, H, W = shape
        return seq.reshape(B, T, H, W, C).permute(0, 4, 1, 2, 3)


class CausalTemporalAttention(_Attention):
    """Each spatial position attends over time, to its own frame and earlier ones only."""

    causal = True

    def to_sequences(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 4, 2, 1).flatten(0, 2)  # (B*H*W, T, C)

    def from_sequences(self, seq: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        B, C, T, H, W = shape
        return seq.reshape(B, H, W, T, C).permute(0, 4, 3, 1, 2)


class MidBlock(nn.Sequential):
    """Bottleneck: res block, (spatial attention, causal temporal attention,) res block."""

    def __init__(self, channels: int, attention: bool, dropout: float = 0.0):
        layers = [ResBlock(channels, channels, dropout)]
        if attention:
            layers += [SpatialAttention(channels), CausalTemporalAttention(channels)]
        super().__init__(*layers, ResBlock(channels, channels, dropout))
