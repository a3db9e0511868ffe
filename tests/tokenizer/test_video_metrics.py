"""PSNR and SSIM against values worked out by hand."""

import math

import pytest
import torch

from worldsim.tokenizer.metrics import gaussian_window, psnr, ssim

C1, C2 = 0.01**2, 0.03**2


def test_psnr_of_a_uniform_error():
    target = torch.zeros(2, 3, 4, 8, 8)
    pred = target + 0.1  # 0.05 on the [0, 1] scale: MSE 0.0025
    torch.testing.assert_close(psnr(pred, target), torch.full((2, 4), 10 * math.log10(1 / 0.0025)))
    target8 = torch.full((1, 3, 2, 8, 8), 100, dtype=torch.uint8)
    expected = 10 * math.log10(255**2 / 10**2)  # 28.13 dB
    torch.testing.assert_close(psnr(target8 + 10, target8), torch.full((1, 2), expected))


def test_uint8_and_float_inputs_agree():
    a8 = torch.randint(0, 256, (1, 3, 2, 16, 16), dtype=torch.uint8)
    b8 = torch.randint(0, 256, (1, 3, 2, 16, 16), dtype=torch.uint8)
    af, bf = a8.float() / 127.5 - 1, b8.float() / 127.5 - 1
    torch.testing.assert_close(psnr(a8, b8), psnr(af, bf))
    torch.testing.assert_close(ssim(a8, b8), ssim(af, bf))


def test_psnr_is_per_frame():
    target = torch.zeros(1, 1, 2, 4, 4)
    pred = target.clone()
    pred[:, :, 1] = 0.2
    values = psnr(pred, target)
    assert values[0, 0] == math.inf and abs(values[0, 1] - 20.0) < 1e-4  # MSE 0.01


def test_gaussian_window():
    w = gaussian_window(11, 1.5, torch.zeros(1))
    assert w.shape == (1, 1, 11, 11)
    torch.testing.assert_close(w.sum(), torch.tensor(1.0))
    g = torch.exp(-torch.tensor([0.0, 1.0]) ** 2 / (2 * 1.5**2))
    torch.testing.assert_close(w[0, 0, 5, 6] / w[0, 0, 5, 5], g[1] / g[0])


def test_ssim_of_identical_frames_is_one():
    x = torch.rand(2, 3, 3, 20, 24) * 2 - 1
    torch.testing.assert_close(ssim(x, x), torch.ones(2, 3))


def test_ssim_of_constant_frames():
    a = torch.full((1, 1, 1, 11, 11), 0.0)  # 0.5 on the [0, 1] scale
    b = torch.full((1, 1, 1, 11, 11), -0.5)  # 0.25
    expected = (2 * 0.5 * 0.25 + C1) / (0.5**2 + 0.25**2 + C1)  # variance terms are (C2 / C2)
    torch.testing.assert_close(ssim(a, b), torch.tensor([[expected]]))


def _step_image():
    """11x11 on [0, 1]: 0.3 left of the centre column, 0.5 on it, 0.7 right: weighted mean 0.5."""
    cols = torch.arange(11.0) - 5
    return (0.5 + 0.2 * torch.sign(cols)).expand(11, 11)


def _weight_off_centre_column():
    g = [math.exp(-(k**2) / (2 * 1.5**2)) for k in range(-5, 6)]
    return 1 - g[5] / sum(g)


def test_ssim_of_a_brightness_shift_by_hand():
    x = _step_image()
    to_video = lambda unit: (unit * 2 - 1).reshape(1, 1, 1, 11, 11)  # noqa: E731
    # y = x + 0.1: equal variances, covariance = variance, so only the luminance term remains
    expected = (2 * 0.5 * 0.6 + C1) / (0.5**2 + 0.6**2 + C1)
    torch.testing.assert_close(ssim(to_video(x + 0.1), to_video(x)), torch.tensor([[expected]]))


def test_ssim_of_an_image_and_its_negative_by_hand():
    x = _step_image()
    to_video = lambda unit: (unit * 2 - 1).reshape(1, 1, 1, 11, 11)  # noqa: E731
    var = 0.2**2 * _weight_off_centre_column()  # Gaussian-weighted variance of x
    expected = (C2 - 2 * var) / (C2 + 2 * var)  # means equal (0.5); covariance = -var
    value = ssim(to_video(1 - x), to_video(x))
    torch.testing.assert_close(value, torch.tensor([[expected]]))
    assert value.item() < 0


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 3, 1, 8, 8), torch.zeros(1, 3, 1, 8, 8))
    with pytest.raises(ValueError, match="one shape"):
        psnr(torch.zeros(1, 3, 1, 8, 8), torch.zeros(1, 3, 2, 8, 8))
