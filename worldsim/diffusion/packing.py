"""Variable-length token sequences as one packed (THD) sequence, or padded to a common length.

Packing puts the samples back to back and marks the boundaries with ``cu_seqlens`` (megatron
``PackedSeqParams``, attention block-diagonal per sample); padding fills every sample up to the
longest one and masks the rest. Packing wastes nothing inside a pack; padding wastes
``1 - padding_efficiency``:

    tokens, cu = pack([a, b])                      # a (5, D), b (3, D) -> (8, D), cu [0, 5, 8]
    a2, b2 = unpack(tokens, cu)
    padded, valid = pad([a, b])                    # (2, 5, D), valid (2, 5) bool
    bins = first_fit_bins([5, 3, 4], capacity=8)   # [[0, 1], [2]]
    packing_efficiency([5, 3, 4], capacity=8, num_bins=2)   # 12 / 16 real tokens per slot

Megatron is imported only by :func:`packed_seq_params`, so data code can pack without it.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def cu_seqlens_from_lengths(lengths: Sequence[int], device=None) -> Tensor:
    """[l0, l1, ...] -> int32 [0, l0, l0+l1, ...] (B+1,)."""
    lengths = torch.as_tensor(list(lengths), dtype=torch.int32)
    cu = torch.cat([torch.zeros(1, dtype=torch.int32), lengths.cumsum(0, dtype=torch.int32)])
    return cu.to(device)


def packed_seq_params(cu_seqlens_q: Tensor, cu_seqlens_kv: Tensor | None = None):
    """Megatron ``PackedSeqParams`` (THD) for queries and, for cross-attention, other keys."""
    from megatron.core.packed_seq_params import PackedSeqParams

    cu_seqlens_kv = cu_seqlens_q if cu_seqlens_kv is None else cu_seqlens_kv
    return PackedSeqParams(
        qkv_format="thd", cu_seqlens_q=cu_seqlens_q, cu_seqlens_kv=cu_seqlens_kv,
        max_seqlen_q=int((cu_seqlens_q[1:] - cu_seqlens_q[:-1]).max()),
        max_seqlen_kv=int((cu_seqlens_kv[1:] - cu_seqlens_kv[:-1]).max()),
    )


def pack(seqs: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """[(S_i, ...)] -> packed (sum S_i, ...), cu_seqlens (B+1,) int32."""
    if not seqs:
        raise ValueError("pack() needs at least one sequence")
    cu = cu_seqlens_from_lengths([s.shape[0] for s in seqs], device=seqs[0].device)
    return torch.cat(list(seqs), dim=0), cu


def unpack(packed: Tensor, cu_seqlens: Tensor) -> list[Tensor]:
    """packed (sum S_i, ...) -> [(S_i, ...)] (views)."""
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).tolist()
    if sum(lengths) != packed.shape[0]:
        raise ValueError(f"cu_seqlens covers {sum(lengths)} tokens, packed has {packed.shape[0]}")
    return list(torch.split(packed, lengths, dim=0))


def pad(seqs: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """[(S_i, ...)] -> padded (B, S_max, ...) zeros after each end, valid (B, S_max) bool."""
    longest = max(s.shape[0] for s in seqs)
    padded = seqs[0].new_zeros((len(seqs), longest, *seqs[0].shape[1:]))
    valid = torch.zeros(len(seqs), longest, dtype=torch.bool, device=seqs[0].device)
    for i, s in enumerate(seqs):
        padded[i, : s.shape[0]] = s
        valid[i, : s.shape[0]] = True
    return padded, valid


def unpad(padded: Tensor, lengths: Sequence[int]) -> list[Tensor]:
    """padded (B, S_max, ...) -> [(S_i, ...)]."""
    return [padded[i, :n] for i, n in enumerate(lengths)]


def packing_efficiency(lengths: Sequence[int], capacity: int, num_bins: int = 1) -> float:
    """Real tokens / capacity of the packs that hold them."""
    return float(sum(lengths)) / float(capacity * num_bins)


def padding_efficiency(lengths: Sequence[int]) -> float:
    """Real tokens / tokens of the padded batch (B * longest)."""
    return float(sum(lengths)) / float(len(lengths) * max(lengths))


def first_fit_bins(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Sample indices grouped into packs of at most ``capacity`` tokens (first fit, longest first)."""
    too_long = [n for n in lengths if n > capacity]
    if too_long:
        raise ValueError(f"samples of {too_long} tokens do not fit a pack of capacity={capacity}")
    bins: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        slot = next((b for b, r in enumerate(room) if r >= lengths[i]), None)
        if slot is None:
            bins.append([])
            room.append(capacity)
            slot = len(bins) - 1
        bins[slot].append(i)
        room[slot] -= lengths[i]
    return bins


def pack_context(context: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample context (B, L, C) -> THD keys (B*L, 1, C) and their cu_seqlens (B+1,)."""
    b, length, c = context.shape
    cu = cu_seqlens_from_lengths([length] * b, device=context.device)
    return context.reshape(b * length, 1, c), cu
