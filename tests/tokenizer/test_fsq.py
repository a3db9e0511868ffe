"""Finite scalar quantization: codebook bijection, values on the grid, straight-through gradient."""

import itertools

import pytest
import torch

from worldsim.tokenizer.fsq import FSQ


@pytest.mark.parametrize("levels", [[3, 4, 2], [5, 8], [2]])
def test_indices_and_codes_are_a_bijection(levels):
    fsq = FSQ(levels)
    indices = torch.arange(fsq.codebook_size)
    codes = fsq.indices_to_codes(indices.reshape(1, -1)).squeeze(0)  # (D, N): dim=1 is channels
    assert codes.shape == (len(levels), fsq.codebook_size)
    assert torch.equal(fsq.codes_to_indices(codes.unsqueeze(0)).squeeze(0), indices)
    assert len({tuple(c) for c in codes.T.tolist()}) == fsq.codebook_size  # all distinct
    grids = [_grid(L) for L in levels]
    assert {tuple(c) for c in codes.T.tolist()} == set(itertools.product(*grids))


def _grid(L):
    """The normalised values of a level L, by the FSQ definition: integers around 0 over L // 2."""
    half = L // 2
    return [(i - half) / half for i in range(L)]


def test_codebook_size_of_the_cosmos_levels():
    assert FSQ([8, 8, 8, 5, 5, 5]).codebook_size == 64_000


def test_quantized_values_lie_on_the_grid_and_use_every_level():
    levels = [8, 5, 2, 3]
    fsq = FSQ(levels)
    z = torch.randn(4, len(levels), 3, 16, 16) * 3  # (B, D, T, H, W)
    codes, indices = fsq(z)
    assert codes.shape == z.shape and indices.shape == (4, 3, 16, 16)
    for d, L in enumerate(levels):
        values = set(codes[:, d].unique().tolist())
        assert values == set(_grid(L)), (L, values)
    assert torch.equal(indices, fsq.codes_to_indices(codes))
    assert torch.equal(fsq.indices_to_codes(indices), codes)
    assert indices.min() >= 0 and indices.max() < fsq.codebook_size


def test_quantization_is_monotone_and_near_identity_for_small_inputs():
    fsq = FSQ([5])
    z = torch.linspace(-4, 4, 101).reshape(1, 1, 101)
    codes, _ = fsq(z)
    assert torch.all(codes.diff() >= 0)
    assert fsq(torch.zeros(1, 1, 1))[0].item() == 0.0


def test_gradient_passes_straight_through():
    fsq = FSQ([8, 5])
    z = torch.randn(2, 2, 5, requires_grad=True)
    codes, _ = fsq(z)
    weights = torch.randn_like(codes)
    (codes * weights).sum().backward()
    assert z.grad is not None and torch.all(z.grad != 0)
    assert torch.equal(torch.sign(z.grad), torch.sign(weights))  # tanh bound is increasing


def test_bad_levels_and_channels_are_clear_errors():
    with pytest.raises(ValueError, match="each >= 2"):
        FSQ([8, 1])
    with pytest.raises(ValueError, match="expects 2 channels"):
        FSQ([8, 5])(torch.zeros(1, 3, 4))
