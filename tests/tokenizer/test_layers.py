"""Causal blocks: changing input frame k never changes output frames before k."""

import pytest
import torch

from worldsim.tokenizer.layers import (
    CausalConv3d,
    CausalTemporalAttention,
    Downsample,
    FrameNorm,
    MidBlock,
    ResBlock,
    SpatialAttention,
    Upsample,
)

T = 7


def _perturbed_outputs(layer, k, T=T, C=8):
    torch.manual_seed(0)
    x = torch.randn(2, C, T, 4, 4, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, k] += torch.randn_like(x2[:, :, k])
    with torch.no_grad():
        return layer(x), layer(x2)


def _changed_frames(a, b):
    return [t for t in range(a.shape[2]) if not torch.equal(a[:, :, t], b[:, :, t])]


SAME_LENGTH = {
    "frame_norm": lambda: FrameNorm(8),
    "causal_conv": lambda: CausalConv3d(8, 8, (3, 3, 3)),
    "res_block": lambda: ResBlock(8, 16),
    "temporal_attention": lambda: CausalTemporalAttention(8, num_heads=2),
    "spatial_attention": lambda: SpatialAttention(8),
    "mid_block": lambda: MidBlock(8, attention=True),
    "spatial_down": lambda: Downsample(8, spatial=True, temporal=False),
    "spatial_up": lambda: Upsample(8, spatial=True, temporal=False),
}


@pytest.mark.parametrize("name", SAME_LENGTH)
@pytest.mark.parametrize("k", [0, 3, T - 1])
def test_same_length_blocks_are_causal(name, k):
    layer = SAME_LENGTH[name]().double()
    y, y2 = _perturbed_outputs(layer, k)
    changed = _changed_frames(y, y2)
    assert changed and min(changed) == k, changed
    if name in ("frame_norm", "spatial_attention", "spatial_down", "spatial_up"):
        assert changed == [k]  # purely per-frame


@pytest.mark.parametrize("k", [0, 1, 2, 3, 6])
def test_temporal_downsample_is_causal(k):
    layer = Downsample(8, spatial=True, temporal=True).double()
    y, y2 = _perturbed_outputs(layer, k)  # T = 7 -> 4; output j sees inputs 2j-2 .. 2j
    assert y.shape == (2, 8, 4, 2, 2)
    assert min(_changed_frames(y, y2)) == (k + 1) // 2


@pytest.mark.parametrize("k", [0, 1, 3])
def test_temporal_upsample_is_causal(k):
    layer = Upsample(8, spatial=True, temporal=True).double()
    y, y2 = _perturbed_outputs(layer, k, T=4)  # T = 4 -> 7; input j first reaches output 2j-1
    assert y.shape == (2, 8, 7, 8, 8)
    assert min(_changed_frames(y, y2)) == max(0, 2 * k - 1)


def test_temporal_attention_matches_explicit_causal_softmax():
    torch.manual_seed(0)
    attn = CausalTemporalAttention(4).double()
    x = torch.randn(1, 4, 5, 1, 1, dtype=torch.float64)
    seq = attn.norm(x).flatten(2).transpose(1, 2)  # (1, T, C): one spatial position
    q, k, v = attn.qkv(seq).chunk(3, dim=-1)
    scores = q @ k.transpose(1, 2) / 2.0  # sqrt(head dim 4)
    future = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    out = attn.proj(scores.masked_fill(future, float("-inf")).softmax(-1) @ v)  # (1, T, C)
    with torch.no_grad():
        torch.testing.assert_close(attn(x), x + out.transpose(1, 2).reshape(1, 4, 5, 1, 1))


def test_image_through_temporal_blocks():
    x = torch.randn(1, 8, 1, 4, 4)
    for layer in (ResBlock(8, 8), CausalTemporalAttention(8), Downsample(8, True, True), Upsample(8, True, True)):
        assert layer(x).shape[2] == 1
