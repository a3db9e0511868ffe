"""Megatron core attention on torch ``scaled_dot_product_attention`` (the CPU spec's attention).

Megatron's own ``DotProductAttention`` allocates on CUDA and refuses packed sequences, so the CPU
layer spec puts this module in ``SelfAttentionSubmodules.core_attention`` instead. It has the
constructor and forward signature that megatron-core 0.16's ``Attention`` calls:

    core = SDPAttention(config=cfg, layer_number=1, attn_mask_type=AttnMaskType.no_mask,
                        attention_type="self")
    out = core(q, k, v, None, attn_mask_type=AttnMaskType.causal)   # q (sq, b, np, hn) -> (sq, b, np*hn)

Masks follow megatron: ``attention_mask`` is boolean with True = masked out (broadcastable to
(b, np, sq, sk)); the ``attn_mask_type`` given at forward time wins over the constructor's (during
KV-cached decoding megatron passes ``no_mask``). Causal masks are lower-right aligned, so a query
block of length sq sees keys up to its own absolute position when sq < sk. With
``packed_seq_params`` (THD, ``cu_seqlens``) attention is block-diagonal per sample: a boolean block
mask built from the cumulative lengths, O(S^2) memory (fine on CPU, where S is small).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from megatron.core.packed_seq_params import PackedSeqParams
from megatron.core.process_groups_config import ProcessGroupCollection
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.module import MegatronModule
from megatron.core.transformer.transformer_config import TransformerConfig
from megatron.core.utils import divide

_CAUSAL = (AttnMaskType.causal, AttnMaskType.causal_bottom_right, AttnMaskType.padding_causal)
_USES_MASK = (AttnMaskType.padding, AttnMaskType.padding_causal, AttnMaskType.arbitrary)


def causal_mask(sq: int, sk: int, device=None) -> Tensor:
    """Lower-right aligned causal mask, True = may attend: query i sees keys j <= i + (sk - sq)."""
    return torch.ones(sq, sk, dtype=torch.bool, device=device).tril(diagonal=sk - sq)  # (sq, sk)


def _segments(cu_seqlens: Tensor, total: int) -> tuple[Tensor, Tensor, Tensor]:
    """Per token: sample id, position in its sample, and its sample's length."""
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long()  # (B,)
    seg = torch.repeat_interleave(torch.arange(len(lengths), device=lengths.device), lengths)
    if seg.numel() != total:
        raise ValueError(f"cu_seqlens covers {seg.numel()} tokens but the packed tensor has {total}")
    pos = torch.arange(total, device=lengths.device) - cu_seqlens[:-1].long()[seg]
    return seg, pos, lengths[seg]  # (T,) each


def packed_block_mask(params: PackedSeqParams, tq: int, tk: int, causal: bool) -> Tensor:
    """Block-diagonal mask (True = may attend) for THD tensors of tq queries and tk keys."""
    for padded, real in ((params.cu_seqlens_q_padded, params.cu_seqlens_q),
                         (params.cu_seqlens_kv_padded, params.cu_seqlens_kv)):
        if padded is not None and not torch.equal(padded, real):
            raise ValueError("SDPAttention takes THD batches without per-sample padding "
                             "(cu_seqlens_*_padded must equal cu_seqlens_* or be None)")
    seg_q, pos_q, len_q = _segments(params.cu_seqlens_q, tq)
    seg_k, pos_k, len_k = _segments(params.cu_seqlens_kv, tk)
    mask = seg_q[:, None] == seg_k[None, :]  # (tq, tk)
    if causal:
        offset = len_k[None, :] - len_q[:, None]  # lower-right alignment per sample
        mask &= pos_k[None, :] <= pos_q[:, None] + offset
    return mask


class SDPAttention(MegatronModule):
    """Core attention with ``F.scaled_dot_product_attention``; drop-in for megatron's."""

    def __init__(
        self,
        config: TransformerConfig,
        layer_number: int,
        attn_mask_type: AttnMaskType,
        attention_type: str,
        attention_dropout: Optional[float] = None,
        softmax_scale: Optional[float] = None,
        cp_comm_type: Optional[str] = None,
        pg_collection: Optional[ProcessGroupCollection] = None,
    ):
        super().__init__(config=config)
        if config.context_parallel_size != 1:
            raise ValueError("SDPAttention does not support context parallelism; use the gpu spec")
        if pg_collection is None:
            pg_collection = ProcessGroupCollection.use_mpu_process_groups(required_pgs=["tp"])
        tp = pg_collection.tp.size()
        self.layer_number = max(1, layer_number)
        self.attn_mask_type = attn_mask_type
        self.attention_type = attention_type
        self.heads = divide(config.num_attention_heads, tp)
        self.groups = divide(config.num_query_groups, tp)
        self.softmax_scale = softmax_scale or 1.0 / math.sqrt(config.kv_channels)
        self.dropout = config.attention_dropout if attention_dropout is None else attention_dropout

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        attention_mask: Optional[Tensor],
        attn_mask_type: Optional[AttnMaskType] = None,
        attention_bias: Optional[Tensor] = None,
        packed_seq_params: Optional[PackedSeqParams] = None,
    ) -> Tensor:
        """sbhd: q (sq, b, np, hn), k/v (sk, b, ng, hn) -> (sq, b, np*hn).
        thd (packed): q (tq, np, hn), k/v (tk, ng, hn) -> (tq, np*hn)."""
        mask_type = self.attn_mask_type if attn_mask_type is None else attn_mask_type
        packed = packed_seq_params is not None and packed_seq_params.qkv_format == "thd"
        if packed:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))  # (t, 1, n, hn)
        q, k, v = (t.permute(1, 2, 0, 3) for t in (query, key, value))  # (b, n, s, hn)
        if self.heads != self.groups:
            k = k.repeat_interleave(self.heads // self.groups, dim=1)
            v = v.repeat_interleave(self.heads // self.groups, dim=1)
        mask = self._mask(q, k, mask_type, attention_mask, packed_seq_params)
        if attention_bias is not None:
            mask = attention_bias if mask is None else attention_bias.masked_fill(~mask, -math.inf)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0,
            scale=self.softmax_scale,
        )  # (b, np, sq, hn)
        out = out.permute(2, 0, 1, 3).flatten(2)  # (sq, b, np*hn)
        return out.squeeze(1) if packed else out

    @staticmethod
    def _mask(q, k, mask_type, attention_mask, packed_seq_params) -> Optional[Tensor]:
        """Boolean mask (True = may attend) broadcastable to (b, np, sq, sk), or None."""
        sq, sk = q.size(2), k.size(2)
        causal = mask_type in _CAUSAL
        mask = None
        if packed_seq_params is not None and packed_seq_params.qkv_format == "thd":
            mask = packed_block_mask(packed_seq_params, sq, sk, causal).to(q.device)  # (sq, sk)
        elif causal:
            mask = causal_mask(sq, sk, device=q.device)
        if attention_mask is not None and mask_type in _USES_MASK:
            allowed = ~attention_mask.bool()  # megatron: True = masked out
            mask = allowed if mask is None else mask & allowed
        return mask
