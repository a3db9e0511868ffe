"""3D RoPE: relative-position property through megatron's rotary application, and packed (THD)
batches rotating exactly like unpacked ones."""

from __future__ import annotations

import pytest
import torch
from megatron.core.models.common.embeddings.rope_utils import apply_rotary_pos_emb
from megatron.core.transformer.transformer_config import TransformerConfig

from worldsim.diffusion.packing import pack, unpack
from worldsim.diffusion.rope3d import rope3d_freqs, rope3d_packed, split_head_dim

HEAD_DIM = 24
CONFIG = TransformerConfig(num_layers=1, hidden_size=HEAD_DIM, num_attention_heads=1,
                           apply_rope_fusion=False, use_cpu_initialization=True)


def rotate(t, freqs, cu_seqlens=None):
    return apply_rotary_pos_emb(t, freqs, config=CONFIG, cu_seqlens=cu_seqlens)


def test_head_dim_split_is_even_and_complete():
    for d in (6, 16, 24, 64, 128):
        parts = split_head_dim(d)
        assert sum(parts) == d and all(p > 0 and p % 2 == 0 for p in parts)
    with pytest.raises(ValueError, match="head_dim"):
        split_head_dim(7)


def test_dot_product_depends_only_on_the_offset():
    grid = (4, 5, 6)
    freqs = rope3d_freqs(grid, HEAD_DIM)  # (120, 1, 1, D)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(HEAD_DIM, generator=g), torch.randn(HEAD_DIM, generator=g)
    s = freqs.shape[0]
    q_rot = rotate(q.expand(s, 1, 1, HEAD_DIM).clone(), freqs)[:, 0, 0]  # (S, D)
    k_rot = rotate(k.expand(s, 1, 1, HEAD_DIM).clone(), freqs)[:, 0, 0]
    idx = lambda t, h, w: (t * grid[1] + h) * grid[2] + w  # noqa: E731
    dot = lambda a, b: float(q_rot[idx(*a)] @ k_rot[idx(*b)])  # noqa: E731
    pairs = [((0, 0, 0), (1, 2, 3)), ((1, 1, 0), (0, 3, 4)), ((2, 0, 1), (2, 2, 2))]
    for a, b in pairs:
        shifted = [(a[0] + 1, a[1] + 1, a[2] + 1), (b[0] + 1, b[1] + 1, b[2] + 1)]
        assert dot(a, b) == pytest.approx(dot(*shifted), abs=1e-4)
    assert abs(dot((0, 0, 0), (1, 0, 0)) - dot((0, 0, 0), (0, 0, 1))) > 1e-3  # axes differ


def test_each_axis_rotates_its_own_channels():
    d_t, d_h, d_w = split_head_dim(HEAD_DIM)
    freqs = rope3d_freqs((2, 2, 2), HEAD_DIM)[:, 0, 0]  # (8, D)
    half = freqs[:, : HEAD_DIM // 2]
    t_part, h_part, w_part = half.split([d_t // 2, d_h // 2, d_w // 2], dim=-1)
    assert torch.equal(t_part[4], t_part[4 + 1]) and not torch.equal(t_part[0], t_part[4])
    assert torch.equal(w_part[0], w_part[2]) and not torch.equal(w_part[0], w_part[1])
    assert torch.equal(freqs[:, : HEAD_DIM // 2], freqs[:, HEAD_DIM // 2 :])


def test_packed_rotation_equals_unpacked():
    grids = [(2, 3, 4), (3, 3, 4), (1, 2, 2)]
    g = torch.Generator().manual_seed(1)
    samples = [torch.randn(t * h * w, 2, HEAD_DIM, generator=g) for t, h, w in grids]  # (S_i, n, d)
    packed, cu = pack(samples)
    rotated = rotate(packed, rope3d_packed(grids, HEAD_DIM), cu_seqlens=cu)  # (T, n, d)
    for got, x, grid in zip(unpack(rotated, cu), samples, grids):
        expected = rotate(x[:, None], rope3d_freqs(grid, HEAD_DIM))[:, 0]  # sbhd, b=1
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_time_offset_continues_the_table():
    full = rope3d_freqs((5, 2, 3), HEAD_DIM)
    tail = rope3d_freqs((3, 2, 3), HEAD_DIM, t_start=2)
    torch.testing.assert_close(tail, full[2 * 6 :])
