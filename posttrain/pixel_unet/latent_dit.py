"""The Cosmos-style predictors of the pixel world model: a frozen causal video tokenizer and a
megatron-core DiT that predicts the next frame's latent.

    cfg, tokenizer = with_tokenizer(LatentDiTConfig(tokenizer="runs/tok4", layout=2))
    pred = make_predictor("latent_deterministic", cfg, EDMSettings())     # predictors.py
    pred.net.tokenizer.load_state_dict(tokenizer.state_dict()); pred.net.fit_scale(frames)   # before training
    loss, frame = pred.loss(context, actions, ctx_sigma, target, weight, base=last, layout=maps)
    nxt = pred.predict(context, actions, generators, layout=maps)       # (B, 3, H, W)

They speak the U-Net predictors' contract (``predictors.py``: pixels in, pixels out), so the same
training loop (context noise, rollouts on their own frames) and the same world model step them.
Inside, every frame is encoded alone by the tokenizer (temporal compression 1; its weights travel
with the predictor and are never trained here), scaled to unit spread, and the DiT sees the
context latents (``context`` frames, after the episode's first frame with ``anchor``, each
marked as conditioning) followed by the next frame's slot. Per latent frame, an embedding of the action that
led to it and of the context noise level joins the DiT's noise embedding (AdaLN). A grounded
predictor (``layout=2``) also gets the layout maps of the next state, unshuffled onto the latent
grid as extra channels of the next frame's slot. ``latent_deterministic`` fills the slot with the
last context frame's latent and regresses the change from it; ``latent_diffusion`` denoises that change with EDM and
samples it with a few Euler steps. Losses are on latents (weighted where the pixels move).
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from posttrain.pixel_unet.config import EDMSettings, LatentDiTConfig
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.diffusion.edm import loss_weight, lognormal_sigma, preconditioning
from worldsim.diffusion.samplers import karras_sigmas
from worldsim.tokenizer.model import VideoTokenizer

def with_tokenizer(cfg: LatentDiTConfig) -> tuple[LatentDiTConfig, VideoTokenizer]:
    """(``cfg`` with ``tokenizer_model`` read from the ``tokenizer`` run, that tokenizer loaded);
    refused unless the tokenizer codes each frame alone."""
    from worldsim.training.tasks.loading import load_tokenizer

    if not cfg.tokenizer:
        raise ValueError("a latent predictor needs latent.tokenizer=RUN (worldsim train tokenizer ... "
                         "model.temporal_compression=1)")
    tokenizer = load_tokenizer(cfg.tokenizer)
    if tokenizer.cfg.temporal_compression != 1:
        raise ValueError(f"tokenizer {cfg.tokenizer} has temporal_compression={tokenizer.cfg.temporal_compression}; "
                         f"the world model encodes each frame alone, so it must be 1")
    return dataclasses.replace(cfg, tokenizer_model=tokenizer.cfg), tokenizer


class LatentDiTNet(nn.Module):
    """Tokenizer (frozen) + DiT + per-frame conditioning embedder; see the module docstring."""

    def __init__(self, cfg: LatentDiTConfig):
        super().__init__()
        from posttrain.common.runtime import ensure_megatron

        ensure_megatron()
        self.cfg = cfg
        self.stride = cfg.tokenizer_model.spatial_compression
        self.latent_dim = cfg.tokenizer_model.latent_dim
        self.layout_channels = cfg.layout * self.stride ** 2
        self.tokenizer = VideoTokenizer(cfg.tokenizer_model).requires_grad_(False)
        self.dit = DiT(DiTConfig(in_channels=self.latent_dim + self.layout_channels, patch_size=(1, cfg.patch, cfg.patch),
                                 hidden_size=cfg.hidden_size, num_layers=cfg.num_layers, num_heads=cfg.num_heads,
                                 adaln_lora_dim=cfg.adaln_lora_dim, spec=cfg.spec))
        hidden = cfg.hidden_size
        self.frame_embed = nn.Sequential(nn.Linear(cfg.action_dim + 2, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.register_buffer("latent_scale", torch.ones(()))

    def train(self, mode: bool = True):
        super().train(mode)
        self.tokenizer.eval()
        return self

    @torch.no_grad()
    def fit_scale(self, frames: Tensor) -> float:
        """Set the latent scale so latents of ``frames`` (B, 3, H, W) have unit spread."""
        self.latent_scale.fill_(1.0)
        self.latent_scale.fill_(1.0 / float(self.encode(frames[:, None]).std().clamp_min(1e-4)))
        return float(self.latent_scale)

    @torch.no_grad()
    def encode(self, frames: Tensor) -> Tensor:
        """(B, T, 3, H, W) in [-1, 1] -> scaled latents (B, C, T, h, w), each frame encoded alone."""
        b, t = frames.shape[:2]
        z = self.tokenizer.encode(frames.flatten(0, 1)[:, :, None])[:, :, 0]  # (B*T, C, h, w)
        return (z * self.latent_scale).unflatten(0, (b, t)).transpose(1, 2)

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """Scaled latents (B, C, h, w) -> frames (B, 3, H, W) clamped to [-1, 1]."""
        return self.tokenizer.decode((z / self.latent_scale)[:, :, None])[:, :, 0].clamp(-1, 1)

    def forward(self, z_ctx: Tensor, actions: Tensor, ctx_sigma: Tensor, x: Tensor, c_noise: Tensor,
                layout: Optional[Tensor] = None) -> Tensor:
        """z_ctx (B, C, Tc, h, w), actions (B, K, A), ctx_sigma (B,), the next frame's slot x (B, C, h, w),
        c_noise (B,), layout (B, L, H, W) -> the DiT's output for the slot (B, C, h, w)."""
        b, c, tc = z_ctx.shape[:3]
        video = torch.cat([z_ctx, x[:, :, None]], dim=2)  # (B, C, T, h, w)
        if self.layout_channels:
            if layout is None:
                raise ValueError("this predictor takes layout maps of the next state (layout=...)")
            extra = video.new_zeros(b, self.layout_channels, tc + 1, *video.shape[-2:])
            extra[:, :, -1] = F.pixel_unshuffle(layout, self.stride)
            video = torch.cat([video, extra], dim=1)
        cond = torch.ones(b, tc + 1, dtype=torch.bool, device=video.device)
        cond[:, -1] = False
        emb = self.frame_embed(self.frame_features(actions, ctx_sigma, tc))  # (B, T, hidden)
        return self.dit(video, c_noise, extra_emb=emb, cond_mask=cond)[:, :c, -1]

    def frame_features(self, actions: Tensor, ctx_sigma: Tensor, tc: int) -> Tensor:
        """(B, Tc + 1, A + 2): per latent frame the action that led to it (zero where unknown: the
        anchor, the first context frame), the context noise level (context frames) and a 1 on the slot."""
        b, k, a = actions.shape
        into = torch.cat([actions.new_zeros(b, tc - k + 1, a), actions], dim=1)  # (B, Tc + 1, A)
        sigma = torch.cat([ctx_sigma[:, None].expand(b, tc), ctx_sigma.new_zeros(b, 1)], dim=1)
        if self.cfg.anchor:
            sigma[:, 0] = 0.0  # the anchor frame is never noised
        slot = actions.new_zeros(b, tc + 1)
        slot[:, -1] = 1.0
        return torch.cat([into, 10.0 * sigma[..., None], slot[..., None]], dim=-1)


def latent_weight(weight: Tensor, stride: int) -> Tensor:
    """A pixel weight map (B, 1, H, W) max-pooled onto the latent grid (B, 1, h, w)."""
    return F.max_pool2d(weight, stride)


class LatentDeterministic(nn.Module):
    kind = "latent_deterministic"
    diffusion = False

    def __init__(self, cfg: LatentDiTConfig, edm: Optional[EDMSettings] = None):
        super().__init__()
        self.net = LatentDiTNet(cfg)

    def forward(self, context: Tensor, actions: Tensor, ctx_sigma: Tensor, base: Optional[Tensor] = None,
                layout: Optional[Tensor] = None) -> Tensor:
        """The next latent: ``base``'s latent (default: the last context frame) plus the predicted change."""
        z_ctx = self.net.encode(context)
        z_base = z_ctx[:, :, -1] if base is None else self.net.encode(base[:, None])[:, :, 0]
        # the slot holds the base latent (a zero slot would leave the zero-gated blocks nothing to learn from)
        return z_base + self.net(z_ctx, actions, ctx_sigma, z_base, ctx_sigma.new_zeros(z_base.shape[0]), layout)

    def loss(self, context, actions, ctx_sigma, target, weight, generator=None, base=None,
             layout=None) -> tuple[Tensor, Tensor]:
        z = self(context, actions, ctx_sigma, base, layout)
        z_target = self.net.encode(target[:, None])[:, :, 0]
        w = latent_weight(weight, self.net.stride)
        return (w * (z - z_target) ** 2).mean(), self.net.decode(z.detach())

    @torch.no_grad()
    def predict(self, context: Tensor, actions: Tensor, generators: Optional[Sequence] = None,
                context_sigma: float = 0.0, layout: Optional[Tensor] = None) -> Tensor:
        sigma = context.new_full((context.shape[0],), context_sigma)
        return self.net.decode(self(context, actions, sigma, layout=layout))


class LatentDiffusion(nn.Module):
    kind = "latent_diffusion"
    diffusion = True

    def __init__(self, cfg: LatentDiTConfig, edm: EDMSettings):
        super().__init__()
        self.net = LatentDiTNet(cfg)
        self.edm = edm

    def denoise(self, noisy: Tensor, sigma: Tensor, z_ctx: Tensor, actions: Tensor, ctx_sigma: Tensor,
                layout: Optional[Tensor] = None) -> Tensor:
        """D(x, sigma) for noisy latent changes x (B, C, h, w) at noise levels sigma (B,)."""
        c_skip, c_out, c_in, c_noise = preconditioning(sigma, self.edm.sigma_data)
        out = self.net(z_ctx, actions, ctx_sigma, c_in.view(-1, 1, 1, 1) * noisy, c_noise.view(-1), layout)
        return c_skip.view(-1, 1, 1, 1) * noisy + c_out.view(-1, 1, 1, 1) * out

    def loss(self, context, actions, ctx_sigma, target, weight, generator=None, base=None,
             layout=None) -> tuple[Tensor, Tensor]:
        z_ctx = self.net.encode(context)
        z_base = z_ctx[:, :, -1] if base is None else self.net.encode(base[:, None])[:, :, 0]
        change = self.net.encode(target[:, None])[:, :, 0] - z_base  # (B, C, h, w)
        sigma = lognormal_sigma(change.shape[0], self.edm.p_mean, self.edm.p_std, self.edm.sigma_min,
                                self.edm.sigma_max, generator=generator)
        noisy = change + sigma.view(-1, 1, 1, 1) * torch.randn(change.shape, generator=generator)
        denoised = self.denoise(noisy, sigma, z_ctx, actions, ctx_sigma, layout)
        w = latent_weight(weight, self.net.stride)
        lam = loss_weight(sigma, self.edm.sigma_data).view(-1, 1, 1, 1)
        return (w * lam * (denoised - change) ** 2).mean(), self.net.decode((z_base + denoised).detach())

    @torch.no_grad()
    def predict(self, context: Tensor, actions: Tensor, generators: Optional[Sequence] = None,
                steps: Optional[int] = None, context_sigma: float = 0.0, layout: Optional[Tensor] = None) -> Tensor:
        z_ctx = self.net.encode(context)
        b, shape = z_ctx.shape[0], (z_ctx.shape[1],) + tuple(z_ctx.shape[-2:])
        noise = torch.randn((b,) + shape) if generators is None else \
            torch.stack([torch.randn(shape, generator=g) for g in generators])
        sigmas = karras_sigmas(steps or self.edm.sample_steps, self.edm.sigma_min, self.edm.sigma_max, self.edm.rho)
        x, ctx_sigma = noise * sigmas[0], context.new_full((b,), context_sigma)
        for sigma, nxt in zip(sigmas[:-1], sigmas[1:]):
            denoised = self.denoise(x, sigma.expand(b), z_ctx, actions, ctx_sigma, layout)
            x = x + (nxt - sigma) * (x - denoised) / sigma   # Euler step of dx/dsigma
        return self.net.decode(z_ctx[:, :, -1] + x)


LATENT_CLASSES = {"latent_deterministic": LatentDeterministic, "latent_diffusion": LatentDiffusion}

