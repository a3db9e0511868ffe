"""One DiT layer: a megatron ``TransformerLayer`` with AdaLN-LoRA modulation from an explicit
timestep embedding.

The submodules (self-attention, optional cross-attention, MLP, their norms) are built by
megatron's ``TransformerLayer.__init__`` from a layer spec (``layer_spec.py``); this class adds
the modulation heads and its own forward, which takes the embedding as an argument:

    layer = build_module(get_layer_spec("cpu"), config=cfg, layer_number=1, adaln_lora_dim=64)
    x = layer(x, emb, rotary_pos_emb=freqs)          # x (S, B, C), emb (B, C) -> (S, B, C)
    x = layer(x, emb, rotary_pos_emb=freqs, packed_seq_params=psp)  # x (T, 1, C), emb (B, C)

Each sub-block runs ``x + gate * f(norm(x) * (1 + scale) + shift)``; shift/scale/gate come from
``adaln_modulation_*`` = SiLU -> Linear(C, r) -> Linear(r, 3C) (LoRA-style, Cosmos key names).
The last linear starts at zero, so gates are zero and a fresh layer is the identity. For packed
(THD) batches the per-sample modulation is spread to each sample's tokens with ``cu_seqlens``;
cross-attention keys then need their own THD params (``context_packed_seq_params``).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from megatron.core.packed_seq_params import PackedSeqParams
from megatron.core.transformer.identity_op import IdentityOp
from megatron.core.transformer.transformer_config import TransformerConfig
from megatron.core.transformer.transformer_layer import TransformerLayer


class AdaLNNorm(nn.Module):
    """LayerNorm without affine parameters (the modulation supplies scale and shift)."""

    def __init__(self, config: TransformerConfig, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        self.hidden_size, self.eps = hidden_size, eps

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, (self.hidden_size,), eps=self.eps)


class AdaLNModulation(nn.Sequential):
    """SiLU -> Linear(C, r) -> Linear(r, n*C), the last zero-initialised: emb (B, C) -> (B, n*C)."""

    def __init__(self, hidden_size: int, lora_dim: int, chunks: int = 3):
        super().__init__(
            nn.SiLU(),
            nn.Linear(hidden_size, lora_dim, bias=False),
            nn.Linear(lora_dim, chunks * hidden_size, bias=False),
        )
        nn.init.zeros_(self[2].weight)


def per_sample_to_tokens(values: Tensor, packed_seq_params: Optional[PackedSeqParams],
                         num_tokens: Optional[int] = None) -> Tensor:
    """Per-sample (B, D) -> broadcastable to the layer's tokens: (1, B, D) sbhd or (T, 1, D) thd.

    Per-frame values (B, F, D) of an unpacked batch of ``num_tokens`` (S = F * tokens per frame,
    in (t, h, w) order) -> (S, B, D): each frame's value on each of its tokens."""
    if values.ndim == 3:
        if packed_seq_params is not None or num_tokens is None or num_tokens % values.shape[1]:
            raise ValueError(f"per-frame values {tuple(values.shape)} need an unpacked batch whose "
                             f"{num_tokens} tokens divide into {values.shape[1]} frames")
        return values.repeat_interleave(num_tokens // values.shape[1], dim=1).transpose(0, 1)  # (S, B, D)
    if packed_seq_params is None:
        return values.unsqueeze(0)  # (1, B, D)
    cu = packed_seq_params.cu_seqlens_q
    lengths = (cu[1:] - cu[:-1]).long().to(values.device)  # (B,)
    sample_of_token = torch.repeat_interleave(torch.arange(len(lengths), device=values.device), lengths)
    return values[sample_of_token].unsqueeze(1)  # (T, 1, D)


def modulation_values(modulation: nn.Module, emb: Tensor) -> Tensor:
    """``modulation(emb)`` for emb (B, C), or frame by frame for per-frame emb (B, F, C) -> (B, F, n*C).

    Frame by frame keeps each call's shape that of the per-sample case, so a per-frame embedding
    equal to the per-sample one gives bitwise the same modulation."""
    if emb.ndim == 2:
        return modulation(emb)
    return torch.stack([modulation(e) for e in emb.unbind(1)], dim=1)


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    return x * (1 + scale) + shift


class DiTLayer(TransformerLayer):
    """Megatron transformer layer with AdaLN-LoRA; ``forward(x, emb, ...)`` takes the embedding."""

    def __init__(self, config: TransformerConfig, submodules, layer_number: int = 1,
                 hidden_dropout: Optional[float] = None, pg_collection=None,
                 vp_stage: Optional[int] = None, adaln_lora_dim: int = 256):
        super().__init__(config, submodules, layer_number, hidden_dropout, pg_collection, vp_stage)
        c = config.hidden_size
        self.has_cross_attention = not isinstance(self.cross_attention, IdentityOp)
        self.adaln_modulation_self_attn = AdaLNModulation(c, adaln_lora_dim)
        if self.has_cross_attention:
            self.adaln_modulation_cross_attn = AdaLNModulation(c, adaln_lora_dim)
        self.adaln_modulation_mlp = AdaLNModulation(c, adaln_lora_dim)

    def forward(
        self,
        hidden_states: Tensor,
        emb: Tensor,
        context: Optional[Tensor] = None,
        rotary_pos_emb: Optional[Tensor] = None,
        packed_seq_params: Optional[PackedSeqParams] = None,
        context_packed_seq_params: Optional[PackedSeqParams] = None,
        attn_input_add: Optional[Tensor] = None,
    ) -> Tensor:
        """hidden_states (S, B, C) or packed (T, 1, C); emb (B, C), or per frame (B, F, C) unpacked;
        context (L, B, C) or packed (sum L_i, 1, C) with ``context_packed_seq_params``. Returns the
        same shape as the input. Attention is unmasked (bidirectional); variable lengths go in as
        packed batches. ``attn_input_add`` (like hidden_states) is added to the modulated,
        normalised input of self-attention (Cosmos's camera conditioning enters there)."""
        x = hidden_states
        h, gate = self._modulated(self.adaln_modulation_self_attn, self.input_layernorm, x, emb,
                                  packed_seq_params)
        if attn_input_add is not None:
            h = h + attn_input_add
        out = self.self_attention(h, attention_mask=None, rotary_pos_emb=rotary_pos_emb,
                                  packed_seq_params=packed_seq_params)
        x = self._gated_residual(x, out, gate)
        if self.has_cross_attention:
            x = self._cross_attend(x, emb, context, packed_seq_params, context_packed_seq_params)
        h, gate = self._modulated(self.adaln_modulation_mlp, self.pre_mlp_layernorm, x, emb,
                                  packed_seq_params)
        return self._gated_residual(x, self.mlp(h), gate)

    def _cross_attend(self, x, emb, context, packed_seq_params, context_packed_seq_params) -> Tensor:
        if context is None:
            raise ValueError("this layer has cross-attention: pass context (L, B, C)")
        if packed_seq_params is not None and context_packed_seq_params is None:
            raise ValueError("a packed batch needs context_packed_seq_params for its context "
                             "(see packing.pack_context)")
        h, gate = self._modulated(self.adaln_modulation_cross_attn, self.pre_cross_attn_layernorm,
                                  x, emb, packed_seq_params)
        out = self.cross_attention(h, attention_mask=None, key_value_states=context,
                                   packed_seq_params=context_packed_seq_params)
        return self._gated_residual(x, out, gate)

    @staticmethod
    def _modulated(modulation, norm, x, emb, packed_seq_params) -> tuple[Tensor, Tensor]:
        """norm(x) * (1 + scale) + shift, and the gate; both broadcast over tokens."""
        values = modulation_values(modulation, emb)  # (B, 3C) or per frame (B, F, 3C)
        shift, scale, gate = per_sample_to_tokens(values, packed_seq_params, x.shape[0]).chunk(3, -1)
        return modulate(norm(x), shift, scale), gate

    def _gated_residual(self, x: Tensor, out_with_bias: tuple, gate: Tensor) -> Tensor:
        out, bias = out_with_bias
        if bias is not None:
            out = out + bias
        out = F.dropout(out, p=self.hidden_dropout, training=self.training)
        return x + gate * out
