"""Haar patching: exact inverse, orthonormality, the causal first-frame scheme."""

import math

import pytest
import torch

from worldsim.tokenizer.haar import haar_forward, haar_inverse, patchify, unpatchify

LEVELS = [(0, 1), (1, 0), (1, 1), (2, 2), (2, 1), (1, 3)]


@pytest.mark.parametrize("lt,ls", LEVELS)
def test_haar_inverse_is_exact_and_energy_preserving(lt, ls):
    x = torch.randn(2, 3, 2**lt * 2, 2**ls * 3, 2**ls * 2, dtype=torch.float64)
    y = haar_forward(x, lt, ls)
    assert y.shape == (2, 3 * 2**lt * 4**ls, 2, 3, 2)
    torch.testing.assert_close(haar_inverse(y, lt, ls), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(y.square().sum(), x.square().sum(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("lt,ls", [(1, 1), (2, 1)])
def test_haar_matrix_is_orthogonal(lt, ls):
    shape = (1, 1, 2**lt, 2**ls, 2**ls)
    n = math.prod(shape)
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape[1:])  # each row a unit clip
    M = haar_forward(basis, lt, ls).reshape(n, n)
    torch.testing.assert_close(M @ M.T, torch.eye(n, dtype=torch.float64), rtol=0, atol=1e-12)


def test_one_level_by_hand():
    x = torch.tensor([3.0, 1.0]).reshape(1, 1, 1, 1, 2)  # one pair along W
    y = haar_forward(x, temporal_levels=0, spatial_levels=0)
    assert torch.equal(y, x)
    pairs = torch.tensor([[3.0, 1.0], [5.0, 7.0]]).reshape(1, 1, 1, 2, 2)  # 2x2 block
    y = haar_forward(pairs, temporal_levels=0, spatial_levels=1).flatten()
    # bands [LL, LH, HL, HH]: sum/2, row differences, column differences, diagonal
    torch.testing.assert_close(y, torch.tensor([8.0, -4.0, 0.0, 2.0]))


@pytest.mark.parametrize("lt,ls,T", [(2, 2, 1), (2, 2, 9), (1, 2, 5), (0, 1, 3), (2, 0, 5)])
def test_patchify_has_an_exact_least_squares_inverse(lt, ls, T):
    x = torch.randn(2, 3, T, 8, 8, dtype=torch.float64)
    p = patchify(x, lt, ls)
    assert p.shape == (2, 3 * 2**lt * 4**ls, 1 + (T - 1) // 2**lt, 8 // 2**ls, 8 // 2**ls)
    torch.testing.assert_close(unpatchify(p, lt, ls), x, rtol=0, atol=1e-12)
    energy = 2**lt * x[:, :, 0].square().sum() + x[:, :, 1:].square().sum()  # first frame s_t times
    torch.testing.assert_close(p.square().sum(), energy, rtol=1e-12, atol=0)
    y = torch.randn_like(p)  # any decoder output: the residual is orthogonal to patchify's range
    projected = patchify(unpatchify(y, lt, ls), lt, ls)
    residual = y - projected
    torch.testing.assert_close((residual * projected).sum(), torch.zeros((), dtype=torch.float64), atol=1e-10, rtol=0)
    torch.testing.assert_close((residual * p).sum(), torch.zeros((), dtype=torch.float64), atol=1e-10, rtol=0)


def test_first_frame_is_coded_alone():
    x = torch.randn(1, 3, 9, 8, 8, dtype=torch.float64)
    p = patchify(x, temporal_levels=2, spatial_levels=1)  # (1, 48, 3, 4, 4)
    image = patchify(x[:, :, :1], temporal_levels=2, spatial_levels=1)
    torch.testing.assert_close(p[:, :, :1], image, rtol=0, atol=1e-12)
    spatial = 2 * haar_forward(x[:, :, :1], temporal_levels=0, spatial_levels=1)  # sqrt(s_t) * ...
    low_band = image.abs().amax(dim=(0, 2, 3, 4)) > 1e-12  # temporal high bands vanish
    assert int(low_band.sum()) == 12
    got, want = image[:, low_band].flatten().sort().values, spatial.flatten().sort().values
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    x2 = x.clone()
    x2[:, :, 5] += 1.0  # frame 5 is in group 2 (frames 5..8)
    p2 = patchify(x2, 2, 1)
    assert torch.equal(p2[:, :, :2], p[:, :, :2]) and not torch.equal(p2[:, :, 2], p[:, :, 2])


def test_bad_frame_count_names_the_rule():
    with pytest.raises(ValueError, match=r"T must be 1 \+ k \* 4"):
        patchify(torch.zeros(1, 3, 8, 8, 8), temporal_levels=2, spatial_levels=1)
    with pytest.raises(ValueError, match="H=6 is not divisible"):
        haar_forward(torch.zeros(1, 3, 2, 6, 8), temporal_levels=1, spatial_levels=2)
