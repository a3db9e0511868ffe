"""The diffusion transformer (DiT) over video latents, with its config.

Latents (B, C, T, H, W) are cut into (p_t, p_h, p_w) patches and linearly embedded (plus one
channel marking conditioning frames), run through megatron DiT layers with 3D RoPE and AdaLN
modulation from the noise-level embedding, and turned back into latents by an AdaLN final layer:

    model = DiT(DiTConfig(in_channels=16, hidden_size=256, num_layers=4, num_heads=4))
    out = model(x, c_noise)                          # x (B, 16, T, H, W), c_noise (B,) -> like x
    outs = model([x1, x2], c_noise)                  # variable-length videos, one packed sequence
    out = model(x, c_noise, packed=True)             # a batch as a packed sequence (same numbers)

``c_noise`` is EDM's 0.25 ln(sigma) (``edm.denoise`` computes it and the preconditioning);
``extra_emb`` (B, hidden), or per latent frame (B, T, hidden) for unpacked batches, is added to
the noise embedding (action conditioning goes there; per frame, each frame's tokens are modulated
by their own embedding);
``context`` (B, L, context_dim) feeds cross-attention; ``cond_mask`` (B, T) bool (or a list of
(T_i,)) marks latent frames given clean (video-to-world: the first ``num_cond_frames``, see
:meth:`DiT.default_cond_mask`). Packed batches go through the same layers with THD
``PackedSeqParams`` and per-token RoPE tables, so packed and padded-free unpacked agree.
Hooks for post-training families (unpacked batches): ``views=V`` folds V views into the frame
axis (x is (B, C, V*T, H, W), view-major) and restarts the RoPE frame index per view, so all views
attend jointly; ``attn_input_adds[i]`` (S, B, hidden) is added to block i's self-attention input
(camera rays); ``block_residuals[i]`` (S, B, hidden) to block i's output (a control branch, which
can run copies of the blocks on :meth:`DiT.embed`'s tokens).
Keys follow Cosmos: ``x_embedder``, ``t_embedder.1.linear_1/2``, ``blocks.i.*``, ``final_layer``.
Megatron needs ``parallel_state`` initialised first (``worldsim.diffusion.testing``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldsim.diffusion.dit_block import DiTBlock
from worldsim.diffusion.dit_layer import AdaLNModulation, modulate, modulation_values, per_sample_to_tokens
from worldsim.diffusion.layer_spec import get_layer_spec
from worldsim.diffusion.packing import pack, pack_context, packed_seq_params, unpack
from worldsim.diffusion.rope3d import rope3d_freqs, rope3d_packed

Latents = Union[Tensor, Sequence[Tensor]]


def gelu_tanh(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")


@dataclass
class DiTConfig:
    """Sizes and switches of the DiT. ``spec``: 'auto' | 'cpu' | 'gpu' (layer_spec.py)."""

    in_channels: int = 16
    patch_size: tuple[int, int, int] = (1, 2, 2)
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    mlp_ratio: float = 4.0
    adaln_lora_dim: int = 64
    qk_norm: bool = True
    cross_attention: bool = False
    context_dim: int = 512
    num_cond_frames: int = 1
    rope_theta: float = 10000.0
    spec: str = "auto"
    checkpoint_layers: bool = False

    def __post_init__(self):
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size={self.hidden_size} must be divisible by "
                             f"num_heads={self.num_heads}")
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise ValueError(f"patch_size={self.patch_size} must be three positive ints (t, h, w)")
        self.patch_size = tuple(int(p) for p in self.patch_size)
        if self.spec not in ("auto", "cpu", "gpu"):
            raise ValueError(f"spec={self.spec!r} is not one of ('auto', 'cpu', 'gpu')")
        if self.num_cond_frames < 0:
            raise ValueError(f"num_cond_frames={self.num_cond_frames} must be >= 0")

    def transformer_config(self):
        """The megatron ``TransformerConfig``; fusions off so it runs on CPU, fp32 params."""
        from megatron.core.transformer.transformer_config import TransformerConfig

        return TransformerConfig(
            num_layers=self.num_layers, hidden_size=self.hidden_size,
            num_attention_heads=self.num_heads,
            ffn_hidden_size=int(self.mlp_ratio * self.hidden_size),
            hidden_dropout=0.0, attention_dropout=0.0, add_bias_linear=False,
            normalization="RMSNorm", qk_layernorm=self.qk_norm, layernorm_epsilon=1e-6,
            activation_func=gelu_tanh,
            use_cpu_initialization=True, params_dtype=torch.float32, bf16=False, fp16=False,
            gradient_accumulation_fusion=False, apply_rope_fusion=False,
            bias_activation_fusion=False, bias_dropout_fusion=False, masked_softmax_fusion=False,
            persist_layer_norm=False, cuda_graph_scope=[],
        )


def patchify(x: Tensor, patch: tuple[int, int, int]) -> tuple[Tensor, tuple[int, int, int]]:
    """(B, C, T, H, W) -> tokens (B, T'*H'*W', C*pt*ph*pw) in (t, h, w) order, and the grid."""
    b, c, t, h, w = x.shape
    pt, ph, pw = patch
    if t % pt or h % ph or w % pw:
        raise ValueError(f"latent (T, H, W)=({t}, {h}, {w}) must divide by patch_size={patch}")
    grid = (t // pt, h // ph, w // pw)
    x = x.reshape(b, c, grid[0], pt, grid[1], ph, grid[2], pw)
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)  # (B, T', H', W', C, pt, ph, pw)
    return x.reshape(b, grid[0] * grid[1] * grid[2], c * pt * ph * pw), grid


def unpatchify(tokens: Tensor, grid: tuple[int, int, int], patch: tuple[int, int, int]) -> Tensor:
    """tokens (B, T'*H'*W', C*pt*ph*pw) -> (B, C, T, H, W)."""
    b = tokens.shape[0]
    (gt, gh, gw), (pt, ph, pw) = grid, patch
    x = tokens.reshape(b, gt, gh, gw, -1, pt, ph, pw)
    x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)  # (B, C, T', pt, H', ph, W', pw)
    return x.reshape(b, -1, gt * pt, gh * ph, gw * pw)


class PatchEmbed(nn.Module):
    """Patch tokens (..., C*pt*ph*pw) -> (..., hidden)."""

    def __init__(self, in_features: int, hidden_size: int):
        super().__init__()
        self.proj = nn.Linear(in_features, hidden_size, bias=False)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.proj(tokens)


class SinusoidalEmbedding(nn.Module):
    """c_noise (B,) -> (B, dim) [cos, sin] features, periods from 1 to 10000."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: Tensor) -> Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)  # (D/2,)
        args = t.float()[:, None] * freqs[None, :]  # (B, D/2)
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (B, D)


class TimestepMLP(nn.Module):
    """(B, C) float32 features -> Linear -> SiLU -> Linear -> (B, C) in the weights' dtype."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear_1 = nn.Linear(hidden_size, hidden_size)
        self.linear_2 = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_2(F.silu(self.linear_1(x.to(self.linear_1.weight.dtype))))


class FinalLayer(nn.Module):
    """AdaLN (shift, scale) then a zero-initialised linear: tokens (.., C) -> (.., out)."""

    def __init__(self, hidden_size: int, out_features: int, lora_dim: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.adaln_modulation = AdaLNModulation(hidden_size, lora_dim, chunks=2)
        self.linear = nn.Linear(hidden_size, out_features, bias=False)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x: Tensor, emb: Tensor, packed_seq_params=None) -> Tensor:
        modulation = modulation_values(self.adaln_modulation, emb)
        shift, scale = per_sample_to_tokens(modulation, packed_seq_params, x.shape[0]).chunk(2, -1)
        x = modulate(F.layer_norm(x, (self.hidden_size,), eps=1e-6), shift, scale)
        return self.linear(x)


@dataclass
class BlockInputs:
    """The input of a DiT's blocks: tokens ``h`` (S, B, hidden), ``emb`` (B, hidden) or per frame,
    RoPE ``freqs`` (S, 1, 1, head_dim) and the token ``grid`` (T', H', W')."""

    h: Tensor
    emb: Tensor
    freqs: Tensor
    grid: tuple[int, int, int]


class DiT(nn.Module):
    """Video DiT on megatron layers; see the module docstring for shapes."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        c, patch_volume = cfg.hidden_size, math.prod(cfg.patch_size)
        self.head_dim = c // cfg.num_heads
        self.transformer_config = cfg.transformer_config()
        spec = get_layer_spec(cfg.spec, cross_attention=cfg.cross_attention, qk_norm=cfg.qk_norm,
                              ffn_hidden_size=self.transformer_config.ffn_hidden_size)
        self.x_embedder = PatchEmbed((cfg.in_channels + 1) * patch_volume, c)
        self.t_embedder = nn.Sequential(SinusoidalEmbedding(c), TimestepMLP(c))
        if cfg.cross_attention:
            self.context_embedder = nn.Linear(cfg.context_dim, c)
        self.blocks = DiTBlock(self.transformer_config, spec, cfg.adaln_lora_dim,
                               checkpoint_layers=cfg.checkpoint_layers)
        self.final_layer = FinalLayer(c, cfg.in_channels * patch_volume, cfg.adaln_lora_dim)

    def default_cond_mask(self, batch: int, frames: int, device=None) -> Tensor:
        """(B, T) bool: the first ``cfg.num_cond_frames`` latent frames are conditioning."""
        mask = torch.zeros(batch, frames, dtype=torch.bool, device=device)
        mask[:, : self.cfg.num_cond_frames] = True
        return mask

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: Latents, c_noise: Tensor, context: Optional[Tensor] = None,
                extra_emb: Optional[Tensor] = None, cond_mask=None,
                packed: Optional[bool] = None, *, views: int = 1,
                attn_input_adds: Optional[Sequence[Optional[Tensor]]] = None,
                block_residuals: Optional[Sequence[Optional[Tensor]]] = None) -> Latents:
        """x (B, C, T, H, W) or a list of (C, T_i, H_i, W_i); c_noise (B,) -> same form as x."""
        is_list = not isinstance(x, Tensor)
        if (is_list or packed) and (views != 1 or attn_input_adds is not None or block_residuals is not None):
            raise ValueError("views, attn_input_adds and block_residuals work on unpacked batches only")
        if is_list or packed:
            samples = list(x) if is_list else list(x.unbind(0))
            emb = self._embedding(c_noise, len(samples), extra_emb, x, packed=True)
            out = self._forward_packed(samples, emb, context, cond_mask)
            return out if is_list else torch.stack(out)
        tokens = self.embed(x, c_noise, extra_emb, cond_mask, views)
        ctx = None if context is None else self.context_embedder(context).transpose(0, 1)  # (L, B, C)
        h = self.blocks(tokens.h, tokens.emb, context=ctx, rotary_pos_emb=tokens.freqs,
                        attn_input_adds=attn_input_adds, block_residuals=block_residuals)
        out = self.final_layer(h, tokens.emb).transpose(0, 1)  # (B, S, C*p)
        return unpatchify(out, tokens.grid, self.cfg.patch_size)

    def embed(self, x: Tensor, c_noise: Tensor, extra_emb: Optional[Tensor] = None, cond_mask=None,
              views: int = 1) -> "BlockInputs":
        """What the blocks of an unpacked batch see: tokens (S, B, hidden), emb, RoPE angles, grid."""
        emb = self._embedding(c_noise, x.shape[0], extra_emb, x, packed=False)
        tokens, grid = patchify(self._with_cond_channel(x, cond_mask), self.cfg.patch_size)
        h = self.x_embedder(tokens).transpose(0, 1)  # (S, B, C)
        return BlockInputs(h, emb, self.rope(grid, views, h.device), grid)

    def rope(self, grid: tuple[int, int, int], views: int = 1, device=None) -> Tensor:
        """RoPE angles (S, 1, 1, head_dim) for a token grid whose frame axis holds ``views`` views."""
        if views < 1 or grid[0] % views:
            raise ValueError(f"views={views} must be >= 1 and divide the {grid[0]} latent frame patches")
        per_view = (grid[0] // views, grid[1], grid[2])
        return rope3d_freqs(per_view, self.head_dim, self.cfg.rope_theta, device=device).repeat(views, 1, 1, 1)

    def _embedding(self, c_noise, batch: int, extra_emb, x, packed: bool) -> Tensor:
        emb = self.t_embedder(torch.as_tensor(c_noise, device=self._device()).expand(batch))  # (B, C)
        return emb if extra_emb is None else self._add_extra_emb(emb, extra_emb, x, packed)

    def _forward_packed(self, samples, emb, context, cond_masks) -> list[Tensor]:
        cond_masks = [None] * len(samples) if cond_masks is None else list(cond_masks)
        if len(cond_masks) != len(samples):
            raise ValueError(f"cond_mask has {len(cond_masks)} entries for {len(samples)} videos")
        patched = [patchify(self._with_cond_channel(s[None], None if m is None else m[None]),
                            self.cfg.patch_size) for s, m in zip(samples, cond_masks)]
        tokens, cu = pack([t[0] for t, _ in patched])  # (T, C*p)
        grids = [g for _, g in patched]
        psp = packed_seq_params(cu)
        h = self.x_embedder(tokens).unsqueeze(1)  # (T, 1, C)
        freqs = rope3d_packed(grids, self.head_dim, self.cfg.rope_theta, device=h.device)
        ctx = ctx_psp = None
        if context is not None:
            ctx, cu_kv = pack_context(self.context_embedder(context))  # (B*L, 1, C)
            ctx_psp = packed_seq_params(cu, cu_kv)
        h = self.blocks(h, emb, context=ctx, rotary_pos_emb=freqs, packed_seq_params=psp,
                        context_packed_seq_params=ctx_psp)
        out = self.final_layer(h, emb, psp).squeeze(1)  # (T, C*p)
        return [unpatchify(o[None], g, self.cfg.patch_size)[0] for o, g in zip(unpack(out, cu), grids)]

    def _add_extra_emb(self, emb: Tensor, extra_emb: Tensor, x, packed: bool) -> Tensor:
        """emb (B, C) + extra (B, C) -> (B, C); + per latent frame (B, T, C) -> (B, T / p_t, C)."""
        if extra_emb.ndim == 2:
            return emb + extra_emb
        if packed or extra_emb.ndim != 3 or extra_emb.shape[1] != x.shape[2]:
            frames = "T" if packed else x.shape[2]
            raise ValueError(f"per-frame extra_emb must be (B, {frames}, hidden), one per latent frame of an "
                             f"unpacked batch, got {tuple(extra_emb.shape)}")
        b, t, c = extra_emb.shape
        per_patch = extra_emb.reshape(b, t // self.cfg.patch_size[0], self.cfg.patch_size[0], c).mean(2)
        return emb[:, None] + per_patch  # (B, T', C)

    def _with_cond_channel(self, x: Tensor, cond_mask: Optional[Tensor]) -> Tensor:
        """(B, C, T, H, W) -> (B, C+1, T, H, W), the extra channel 1 on conditioning frames."""
        b, _, t, h, w = x.shape
        channel = x.new_zeros(b, 1, t, h, w)
        if cond_mask is not None:
            channel += cond_mask.to(x.dtype).reshape(b, 1, t, 1, 1)
        return torch.cat([x, channel], dim=1)

    def _device(self) -> torch.device:
        return self.x_embedder.proj.weight.device
