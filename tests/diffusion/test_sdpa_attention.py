"""SDPA core attention against a naive softmax reference; masks, GQA and packed (THD) batches."""

from __future__ import annotations

import math

import pytest
import torch
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.transformer_config import TransformerConfig

from worldsim.diffusion.packing import pack, packed_seq_params, pad, unpack
from worldsim.diffusion.sdpa_attention import SDPAttention

HEADS, HEAD_DIM = 2, 8


def make_attention(mask_type=AttnMaskType.no_mask, groups=HEADS) -> SDPAttention:
    cfg = TransformerConfig(num_layers=1, hidden_size=HEADS * HEAD_DIM, num_attention_heads=HEADS,
                            num_query_groups=groups, attention_dropout=0.0,
                            use_cpu_initialization=True)
    return SDPAttention(config=cfg, layer_number=1, attn_mask_type=mask_type, attention_type="self")


def naive_attention(q, k, v, allowed=None):
    """q (sq, b, n, d), k/v (sk, b, n, d), allowed (sq, sk) or (b, 1, sq, sk) -> (sq, b, n*d)."""
    q, k, v = (t.double().permute(1, 2, 0, 3) for t in (q, k, v))  # (b, n, s, d)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (b, n, sq, sk)
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v  # (b, n, sq, d)
    return out.permute(2, 0, 1, 3).flatten(2).float()


def qkv(sq, sk, b=2, n=HEADS, kv_heads=HEADS, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(sq, b, n, HEAD_DIM, generator=g)
    k, v = (torch.randn(sk, b, kv_heads, HEAD_DIM, generator=g) for _ in range(2))
    return q, k, v


def test_no_mask_matches_naive_softmax():
    q, k, v = qkv(5, 7)
    out = make_attention()(q, k, v, None)
    torch.testing.assert_close(out, naive_attention(q, k, v), atol=1e-5, rtol=1e-5)


def test_padding_mask_follows_megatron_convention_true_is_masked():
    q, k, v = qkv(4, 6)
    masked_out = torch.zeros(2, 1, 4, 6, dtype=torch.bool)
    masked_out[0, ..., 4:] = True  # sample 0 has only 4 real keys
    out = make_attention(AttnMaskType.padding)(q, k, v, masked_out)
    torch.testing.assert_close(out, naive_attention(q, k, v, ~masked_out), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[:, 0], naive_attention(q[:, :1], k[:4, :1], v[:4, :1])[:, 0],
                               atol=1e-5, rtol=1e-5)


def test_grouped_query_attention_repeats_kv_heads():
    q, k, v = qkv(5, 5, n=HEADS, kv_heads=1)
    out = make_attention(groups=1)(q, k, v, None)
    expand = lambda t: t.repeat_interleave(HEADS, dim=2)  # noqa: E731
    torch.testing.assert_close(out, naive_attention(q, expand(k), expand(v)), atol=1e-5, rtol=1e-5)


def test_causal_with_fewer_queries_is_lower_right_aligned():
    q, k, v = qkv(2, 5)
    out = make_attention(AttnMaskType.causal)(q, k, v, None)
    allowed = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)  # by hand
    torch.testing.assert_close(out, naive_attention(q, k, v, allowed), atol=1e-5, rtol=1e-5)


def test_causal_suffix_of_queries_equals_full_causal_rows():
    """Decoding the last 2 queries against all 5 keys gives the last 2 rows of full attention."""
    q, k, v = qkv(5, 5)
    attention = make_attention(AttnMaskType.causal)
    full = attention(q, k, v, None)
    torch.testing.assert_close(attention(q[-2:], k, v, None), full[-2:], atol=1e-5, rtol=1e-5)


def test_mask_type_given_at_forward_time_wins():
    q, k, v = qkv(4, 4)
    built_causal = make_attention(AttnMaskType.causal)
    out = built_causal(q, k, v, None, attn_mask_type=AttnMaskType.no_mask)
    torch.testing.assert_close(out, naive_attention(q, k, v), atol=1e-5, rtol=1e-5)


def _thd(t):
    """(s, 1, n, d) -> (s, n, d), as megatron's Attention squeezes THD tensors."""
    return t[:, 0]


@pytest.mark.parametrize("mask_type", [AttnMaskType.no_mask, AttnMaskType.causal])
def test_packed_equals_per_sample(mask_type):
    attention = make_attention(mask_type)
    samples = [qkv(5, 5, b=1, seed=1), qkv(3, 3, b=1, seed=2)]
    q, cu = pack([_thd(s[0]) for s in samples])
    k, _ = pack([_thd(s[1]) for s in samples])
    v, _ = pack([_thd(s[2]) for s in samples])
    out = attention(q, k, v, None, packed_seq_params=packed_seq_params(cu))  # (8, n*d)
    for got, (qs, ks, vs) in zip(unpack(out, cu), samples):
        torch.testing.assert_close(got, attention(qs, ks, vs, None)[:, 0], atol=1e-5, rtol=1e-5)


def test_packed_cross_attention_uses_its_own_key_lengths():
    attention = make_attention()
    samples = [qkv(5, 2, b=1, seed=3), qkv(3, 4, b=1, seed=4)]
    q, cu_q = pack([_thd(s[0]) for s in samples])
    k, cu_k = pack([_thd(s[1]) for s in samples])
    v, _ = pack([_thd(s[2]) for s in samples])
    out = attention(q, k, v, None, packed_seq_params=packed_seq_params(cu_q, cu_k))
    for got, (qs, ks, vs) in zip(unpack(out, cu_q), samples):
        torch.testing.assert_close(got, naive_attention(qs, ks, vs)[:, 0], atol=1e-5, rtol=1e-5)


def test_padded_batch_with_mask_equals_packed():
    """The padded alternative (mask the pad keys) gives the packed result on real tokens."""
    attention = make_attention()
    lengths = (5, 3)
    samples = [qkv(n, n, b=1, seed=5 + i) for i, n in enumerate(lengths)]
    parts = [[_thd(s[j]) for s in samples] for j in range(3)]
    (q, cu), (k, _), (v, _) = (pack(p) for p in parts)
    packed_out = unpack(attention(q, k, v, None, packed_seq_params=packed_seq_params(cu)), cu)
    (qp, valid), (kp, _), (vp, _) = (pad(p) for p in parts)  # (b, s, n, d)
    masked_out = ~valid[:, None, None, :]  # (b, 1, 1, s), True = pad key
    out = make_attention(AttnMaskType.padding)(*(t.transpose(0, 1) for t in (qp, kp, vp)), masked_out)
    for i, n in enumerate(lengths):
        torch.testing.assert_close(out[:n, i], packed_out[i], atol=1e-5, rtol=1e-5)
