"""Packing variable-length token sequences (THD with cu_seqlens) and the padded alternative."""

from __future__ import annotations

import pytest
import torch

from worldsim.diffusion.packing import (
    first_fit_bins,
    pack,
    pack_context,
    packed_seq_params,
    packing_efficiency,
    pad,
    padding_efficiency,
    unpack,
    unpad,
)


def sequences(lengths, dim=3):
    return [torch.full((n, dim), float(i)) + torch.arange(n)[:, None] for i, n in enumerate(lengths)]


def test_pack_unpack_round_trip():
    seqs = sequences([5, 1, 3])
    packed, cu = pack(seqs)
    assert packed.shape == (9, 3) and cu.tolist() == [0, 5, 6, 9] and cu.dtype == torch.int32
    for a, b in zip(unpack(packed, cu), seqs):
        assert torch.equal(a, b)


def test_pad_unpad_round_trip_and_valid_mask():
    seqs = sequences([2, 4])
    padded, valid = pad(seqs)
    assert padded.shape == (2, 4, 3)
    assert valid.tolist() == [[True, True, False, False], [True] * 4]
    assert padded[0, 2:].abs().sum() == 0
    for a, b in zip(unpad(padded, [2, 4]), seqs):
        assert torch.equal(a, b)


def test_efficiencies():
    lengths = [6, 2, 4]
    assert padding_efficiency(lengths) == pytest.approx(12 / 18)
    assert packing_efficiency(lengths, capacity=12) == 1.0
    assert packing_efficiency(lengths, capacity=8, num_bins=2) == pytest.approx(12 / 16)


def test_first_fit_bins_cover_every_sample_within_capacity():
    lengths = [7, 3, 5, 1, 4, 2, 6]
    bins = first_fit_bins(lengths, capacity=8)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 8 for b in bins)
    assert len(bins) == 4  # 28 tokens need at least 4 packs of 8
    with pytest.raises(ValueError, match="capacity=4"):
        first_fit_bins([3, 5], capacity=4)


def test_packed_seq_params_and_context():
    _, cu = pack(sequences([5, 3]))
    ctx, cu_kv = pack_context(torch.randn(2, 4, 6))
    params = packed_seq_params(cu, cu_kv)
    assert ctx.shape == (8, 1, 6) and cu_kv.tolist() == [0, 4, 8]
    assert params.qkv_format == "thd" and params.max_seqlen_q == 5 and params.max_seqlen_kv == 4


def test_unpack_rejects_mismatched_lengths():
    packed, _ = pack(sequences([2, 2]))
    with pytest.raises(ValueError, match="covers 5 tokens"):
        unpack(packed, torch.tensor([0, 2, 5], dtype=torch.int32))
