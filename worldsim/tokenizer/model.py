"""Causal video tokenizer (Cosmos style): Haar patching, causal conv encoder/decoder, AE or FSQ.

Video in and out is float in [-1, 1], (B, C, 1 + k * temporal_compression, H, W) with H, W
divisible by ``spatial_compression``; latents are (B, D, 1 + k, H / s, W / s). The first frame is
encoded alone (latent frame 0), each later latent frame codes ``temporal_compression`` frames, and
every layer is causal in time, so images (T = 1) and videos share one model. The Haar wavelet
(see ``haar.py``) does up to ``haar_levels`` of the compression on each axis; strided causal
convolutions do the rest. ``kind="continuous"`` is a plain autoencoder with ``latent_channels``
channels; ``kind="discrete"`` quantizes ``len(fsq_levels)`` channels with FSQ.

    tok = VideoTokenizer(TokenizerConfig(spatial_compression=8, temporal_compression=4))
    z = tok.encode(video)                 # (B, 3, 17, 64, 64) -> (B, 16, 5, 8, 8)
    recon = tok.decode(z)                 # (B, 3, 17, 64, 64)
    loss, metrics = tok.loss(video)       # for a trainer: scalar loss, {name: float}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from worldsim.tokenizer.fsq import FSQ
from worldsim.tokenizer.haar import patchify, unpatchify
from worldsim.tokenizer.layers import Downsample, FrameNorm, MidBlock, ResBlock, Upsample, factorized_conv
from worldsim.tokenizer.loss import ReconstructionLossConfig, reconstruction_loss
from worldsim.tokenizer.metrics import psnr

KINDS = ("continuous", "discrete")


@dataclass
class TokenizerConfig:
    """Tokenizer architecture (and its loss weights). The default, ~1.1M parameters, trains on CPU.

    channels, channel_mult: width of resolution level i is ``channels * channel_mult[i]`` (the last
        entry repeats); there is one level per strided down-sampling step, plus one.
    spatial_compression, temporal_compression: powers of 2; the first ``haar_levels`` factors of 2
        on each axis come from the Haar wavelet, the rest from strided causal convolutions.
    kind: "continuous" (``latent_channels`` channels) or "discrete" (FSQ over ``fsq_levels``).
    attention: spatial and causal temporal self-attention in the bottleneck of both halves.
    """

    image_channels: int = 3
    channels: int = 32
    channel_mult: list[int] = field(default_factory=lambda: [1, 2])
    num_res_blocks: int = 1
    spatial_compression: int = 8
    temporal_compression: int = 4
    haar_levels: int = 2
    latent_channels: int = 16
    kind: str = "continuous"
    fsq_levels: list[int] = field(default_factory=lambda: [8, 8, 8, 5, 5, 5])
    attention: bool = True
    dropout: float = 0.0
    loss: ReconstructionLossConfig = field(default_factory=ReconstructionLossConfig)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}; allowed: {', '.join(KINDS)}")
        for name in ("spatial_compression", "temporal_compression"):
            value = getattr(self, name)
            if value < 1 or value & (value - 1):
                raise ValueError(f"{name}={value}; must be a power of 2 (1, 2, 4, 8, 16)")
        if self.channels < 1 or self.num_res_blocks < 0 or self.haar_levels < 0 or not self.channel_mult:
            raise ValueError("channels >= 1, num_res_blocks >= 0, haar_levels >= 0 and a non-empty channel_mult")
        if self.kind == "discrete" and (not self.fsq_levels or min(self.fsq_levels) < 2):
            raise ValueError(f"fsq_levels={list(self.fsq_levels)}; need one or more levels, each >= 2")

    @property
    def haar_temporal(self) -> int:
        return min(self.haar_levels, int(math.log2(self.temporal_compression)))

    @property
    def haar_spatial(self) -> int:
        return min(self.haar_levels, int(math.log2(self.spatial_compression)))

    @property
    def down_temporal(self) -> int:
        return int(math.log2(self.temporal_compression)) - self.haar_temporal

    @property
    def down_spatial(self) -> int:
        return int(math.log2(self.spatial_compression)) - self.haar_spatial

    @property
    def latent_dim(self) -> int:
        return self.latent_channels if self.kind == "continuous" else len(self.fsq_levels)

    @property
    def patched_channels(self) -> int:
        return self.image_channels * 2**self.haar_temporal * 4**self.haar_spatial

    def level_channels(self) -> list[int]:
        """Width of each resolution level: one per strided down/up-sampling step, plus one."""
        levels = max(self.down_temporal, self.down_spatial) + 1
        return [self.channels * self.channel_mult[min(i, len(self.channel_mult) - 1)] for i in range(levels)]


class Encoder(nn.Module):
    """(B, C, 1 + k*s_t, H, W) video -> (B, latent_dim, 1 + k, H/s, W/s), causal in time."""

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        widths = cfg.level_channels()
        self.conv_in = factorized_conv(cfg.patched_channels, widths[0])
        blocks, width = [], widths[0]
        for level, level_width in enumerate(widths):
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResBlock(width, level_width, cfg.dropout))
                width = level_width
            if level < len(widths) - 1:
                blocks.append(Downsample(width, level < cfg.down_spatial, level < cfg.down_temporal))
        self.blocks = nn.Sequential(*blocks)
        self.mid = MidBlock(width, cfg.attention, cfg.dropout)
        self.norm_out = FrameNorm(width)
        self.conv_out = factorized_conv(width, cfg.latent_dim)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        x = patchify(video, self.cfg.haar_temporal, self.cfg.haar_spatial)  # (B, C', 1 + k, H', W')
        x = self.mid(self.blocks(self.conv_in(x)))  # (B, width, 1 + k, h, w)
        return self.conv_out(F.silu(self.norm_out(x)))  # (B, latent_dim, 1 + k, h, w)


class Decoder(nn.Module):
    """(B, latent_dim, 1 + k, h, w) latents -> (B, C, 1 + k*s_t, H, W) video, causal in time."""

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        widths = cfg.level_channels()
        width = widths[-1]
        self.conv_in = factorized_conv(cfg.latent_dim, width)
        self.mid = MidBlock(width, cfg.attention, cfg.dropout)
        blocks = []
        for level in reversed(range(len(widths))):
            for _ in range(cfg.num_res_blocks + 1):
                blocks.append(ResBlock(width, widths[level], cfg.dropout))
                width = widths[level]
            if level > 0:
                blocks.append(Upsample(width, level - 1 < cfg.down_spatial, level - 1 < cfg.down_temporal))
        self.blocks = nn.Sequential(*blocks)
        self.norm_out = FrameNorm(width)
        self.conv_out = factorized_conv(width, cfg.patched_channels)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.mid(self.conv_in(latents)))  # (B, width, 1 + k, H', W')
        x = self.conv_out(F.silu(self.norm_out(x)))  # (B, C', 1 + k, H', W')
        return unpatchify(x, self.cfg.haar_temporal, self.cfg.haar_spatial)  # (B, C, 1 + k*s_t, H, W)


class VideoTokenizer(nn.Module):
    """Encoder + (FSQ for ``kind="discrete"``) + decoder, with a loss for trainers."""

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantizer = FSQ(cfg.fsq_levels) if cfg.kind == "discrete" else None

    def encode(self, video: torch.Tensor):
        """Continuous: latents (B, D, 1 + k, h, w). Discrete: (codes like that, indices (B, 1 + k, h, w))."""
        self.check_video(video)
        z = self.encoder(video)
        return self.quantizer(z) if self.quantizer is not None else z

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, D, 1 + k, h, w) latents (or FSQ codes) -> (B, C, 1 + k*s_t, H, W), about [-1, 1]."""
        if latents.ndim != 5 or latents.shape[1] != self.cfg.latent_dim:
            raise ValueError(f"latents must be (B, {self.cfg.latent_dim}, T, h, w), got {tuple(latents.shape)}")
        return self.decoder(latents)

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, 1 + k, h, w) FSQ indices -> video; discrete tokenizers only."""
        if self.quantizer is None:
            raise ValueError("decode_indices needs kind='discrete'; this tokenizer is continuous")
        codes = self.quantizer.indices_to_codes(indices)  # (B, D, 1 + k, h, w)
        return self.decode(codes.to(self.decoder.conv_out[0].conv.weight.dtype))

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Reconstruct ``video``; aux holds "latents" (and "indices" when discrete)."""
        encoded = self.encode(video)
        latents, aux = (encoded[0], {"indices": encoded[1]}) if self.quantizer is not None else (encoded, {})
        aux["latents"] = latents
        return self.decode(latents), aux

    def loss(self, video: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Reconstruction loss of a float [-1, 1] batch, and metrics as plain floats."""
        recon, aux = self(video)
        loss, terms = reconstruction_loss(recon, video, self.cfg.loss)
        metrics = {name: float(value) for name, value in terms.items()}
        metrics["loss"] = float(loss.detach())
        metrics["psnr"] = float(psnr(recon.detach(), video).mean())
        metrics["latent_std"] = float(aux["latents"].detach().std())
        if "indices" in aux:
            metrics["codebook_usage"] = aux["indices"].unique().numel() / self.quantizer.codebook_size
        return loss, metrics

    def latent_shape(self, video_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(B, C, T, H, W) -> the (B, D, T', h, w) shape ``encode`` returns for it."""
        B, _, T, H, W = video_shape
        s_t, s = self.cfg.temporal_compression, self.cfg.spatial_compression
        return (B, self.cfg.latent_dim, 1 + (T - 1) // s_t, H // s, W // s)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def check_video(self, video: torch.Tensor) -> None:
        """Raise a ValueError naming what is wrong with a video batch's shape or dtype."""
        cfg = self.cfg
        if video.ndim != 5 or not video.is_floating_point():
            raise ValueError(f"video must be float (B, C, T, H, W) in [-1, 1], got {video.dtype} {tuple(video.shape)}")
        _, C, T, H, W = video.shape
        s_t, s = cfg.temporal_compression, cfg.spatial_compression
        if C != cfg.image_channels:
            raise ValueError(f"video has {C} channels; image_channels={cfg.image_channels}")
        if (T - 1) % s_t:
            raise ValueError(f"video has T={T} frames; temporal_compression={s_t} needs T = 1 + k * {s_t}")
        if H % s or W % s:
            raise ValueError(f"video is {H}x{W}; spatial_compression={s} needs H and W divisible by {s}")
