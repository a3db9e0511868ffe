"""Frame codecs for world models: the learned video tokenizer, or exact pixel patches.

    codec = load_codec("runs/tokenizer")   # a `worldsim train tokenizer` run (temporal_compression 1)
    codec = load_codec("pixels:8")         # space-to-depth: (3, H, W) <-> (3*8*8, H/8, W/8), lossless
    z = codec.encode(video)                # (B, 3, T, H, W) in [-1, 1] -> (B, D, T, h, w)
    video = codec.decode(z)

The pixel codec has no parameters and loses nothing, so a world model on it is docs/design.md's
"plain deterministic next-frame predictor" baseline, and it keeps small objects that a lossy
tokenizer may drop (PSNR of a reconstruction is dominated by the static background).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import nn

from worldsim.config import structured

PIXELS = "pixels"


@dataclass
class PixelCodecConfig:
    kind: str = PIXELS
    patch: int = 8
    image_channels: int = 3
    temporal_compression: int = 1

    @property
    def latent_dim(self) -> int:
        return self.image_channels * self.patch**2

    @property
    def spatial_compression(self) -> int:
        return self.patch


class PixelCodec(nn.Module):
    def __init__(self, cfg: PixelCodecConfig):
        super().__init__()
        self.cfg = cfg

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = video.shape
        p = self.cfg.patch
        if h % p or w % p:
            raise ValueError(f"frames of {h}x{w} do not divide into {p}x{p} pixel patches")
        x = video.reshape(b, c, t, h // p, p, w // p, p).permute(0, 1, 4, 6, 2, 3, 5)  # (B, C, p, p, T, h, w)
        return x.reshape(b, c * p * p, t, h // p, w // p)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        b, d, t, h, w = latents.shape
        p, c = self.cfg.patch, self.cfg.image_channels
        if d != c * p * p:
            raise ValueError(f"latents must be (B, {c * p * p}, T, h, w), got {tuple(latents.shape)}")
        x = latents.reshape(b, c, p, p, t, h, w).permute(0, 1, 4, 5, 2, 6, 3)  # (B, C, T, h, p, w, p)
        return x.reshape(b, c, t, h * p, w * p)


def pixel_patch(spec: str) -> int | None:
    """8 for "pixels:8" (or "pixels"), None for a tokenizer path."""
    if spec == PIXELS or spec.startswith(PIXELS + ":"):
        patch = spec.partition(":")[2] or "8"
        if not patch.isdigit() or int(patch) < 1:
            raise ValueError(f"codec {spec!r}: write pixels:P with a positive patch size P")
        return int(patch)
    return None


def load_codec(spec: str):
    """A frozen codec in eval mode from "pixels:P" or a tokenizer run/checkpoint folder (loaded
    as ``worldsim.training.tasks.loading.load_tokenizer`` loads it for the base model)."""
    patch = pixel_patch(spec)
    if patch is not None:
        return PixelCodec(PixelCodecConfig(patch=patch)).eval()
    from worldsim.training.tasks.loading import load_tokenizer

    return load_tokenizer(spec)


def codec_fingerprint(spec: str) -> str:
    """Identifies the codec's weights (a hash of both weight files of a tokenizer; the spec for pixels)."""
    if pixel_patch(spec) is not None:
        return spec
    from worldsim.io import EMA, MODEL, resolve_checkpoint

    found = resolve_checkpoint(spec)
    return hashlib.sha256((found / MODEL).read_bytes() + (found / EMA).read_bytes()).hexdigest()[:16]


def codec_from_config(config: dict):
    """Rebuild a codec from a world-model folder's ``tokenizer`` section."""
    if config.get("kind") == PIXELS:
        return PixelCodec(structured(PixelCodecConfig, config))
    from worldsim.tokenizer.model import TokenizerConfig, VideoTokenizer

    return VideoTokenizer(structured(TokenizerConfig, config))
