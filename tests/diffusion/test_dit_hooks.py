"""The DiT's hooks for post-training families: views folded into the frame axis with RoPE
restarted per view, additive self-attention inputs and per-block residuals."""

from __future__ import annotations

import pytest
import torch

from worldsim.diffusion.dit import DiT


def model_and_input(tiny_cfg, randomize, frames=2):
    model = randomize(DiT(tiny_cfg(num_cond_frames=0))).eval()
    x = torch.randn(2, 4, frames, 4, 4, generator=torch.Generator().manual_seed(0))
    return model, x, torch.tensor(0.3)


@torch.no_grad()
def test_views_restart_rope_so_swapping_views_swaps_outputs(tiny_cfg, randomize):
    """With the frame index restarted per view and no view embedding, joint attention over two
    views is equivariant to swapping them; a continuing frame index breaks that symmetry."""
    model, x, c = model_and_input(tiny_cfg, randomize, frames=4)   # 2 views x 2 frames
    swapped = torch.cat([x[:, :, 2:], x[:, :, :2]], dim=2)
    out, out_sw = model(x, c, views=2), model(swapped, c, views=2)
    assert torch.allclose(torch.cat([out_sw[:, :, 2:], out_sw[:, :, :2]], 2), out, atol=1e-5)
    plain, plain_sw = model(x, c), model(swapped, c)
    assert not torch.allclose(torch.cat([plain_sw[:, :, 2:], plain_sw[:, :, :2]], 2), plain, atol=1e-3)


def test_views_must_divide_frames(tiny_cfg, randomize):
    model, x, c = model_and_input(tiny_cfg, randomize, frames=3)
    with pytest.raises(ValueError, match="views=2"):
        model(x, c, views=2)


@torch.no_grad()
def test_zero_hooks_change_nothing_and_nonzero_hooks_do(tiny_cfg, randomize):
    model, x, c = model_and_input(tiny_cfg, randomize)
    base = model(x, c)
    s = 2 * 2 * 2   # tokens: 2 frames x (4/2) x (4/2)
    zeros = [torch.zeros(s, 2, 32)] * 2
    assert torch.equal(model(x, c, attn_input_adds=zeros, block_residuals=zeros), base)
    bump = [None, torch.randn(s, 2, 32, generator=torch.Generator().manual_seed(1))]  # not constant: LayerNorm removes that
    assert not torch.allclose(model(x, c, attn_input_adds=bump), base, atol=1e-4)
    assert not torch.allclose(model(x, c, block_residuals=bump), base, atol=1e-4)


@torch.no_grad()
def test_block_residual_is_added_after_its_block(tiny_cfg, randomize):
    """A residual r after the last block equals running the blocks by hand and adding r."""
    model, x, c = model_and_input(tiny_cfg, randomize)
    r = torch.randn(8, 2, 32, generator=torch.Generator().manual_seed(3))
    inputs = model.embed(x, c)
    h = model.blocks(inputs.h, inputs.emb, rotary_pos_emb=inputs.freqs) + r
    from worldsim.diffusion.dit import unpatchify

    expect = unpatchify(model.final_layer(h, inputs.emb).transpose(0, 1), inputs.grid, model.cfg.patch_size)
    assert torch.allclose(model(x, c, block_residuals=[None, r]), expect, atol=1e-6)


def test_hooks_refuse_packed_batches(tiny_cfg, randomize):
    model, x, c = model_and_input(tiny_cfg, randomize)
    with pytest.raises(ValueError, match="unpacked"):
        model(x, c, packed=True, views=2)
