"""EDM preconditioning and loss (hand-derived values, conditioning frames) and the Euler/Heun
samplers on data whose optimal denoiser is known in closed form."""

from __future__ import annotations

import math

import pytest
import torch

from worldsim.diffusion.dit import DiT
from worldsim.diffusion.edm import (
    EDMConfig,
    denoise,
    lognormal_sigma,
    loss_weight,
    make_denoiser,
    preconditioning,
    training_loss,
)
from worldsim.diffusion.samplers import karras_sigmas, sample

SHAPE = (2, 3, 4, 2, 2)  # (B, C, T, H, W)


class Spy:
    """A stand-in network: records its input, returns ``fill`` (any shape-matching tensor)."""

    def __init__(self, fill):
        self.fill, self.inputs = fill, []

    def __call__(self, x, c_noise, cond_mask=None, **kwargs):
        self.inputs.append(x.clone())
        return self.fill.expand_as(x)


def test_preconditioning_at_sigma_data_by_hand():
    c_skip, c_out, c_in, c_noise = preconditioning(torch.tensor(0.5))
    assert float(c_skip) == pytest.approx(0.5)  # 0.25 / 0.5
    assert float(c_out) == pytest.approx(0.25 / math.sqrt(0.5))  # 0.5*0.5 / sqrt(0.5)
    assert float(c_in) == pytest.approx(1 / math.sqrt(0.5))
    assert float(c_noise) == pytest.approx(0.25 * math.log(0.5))
    assert float(loss_weight(torch.tensor(0.5))) == pytest.approx(8.0)  # 0.5 / 0.0625 = 1/c_out^2


def test_denoiser_returns_its_input_as_sigma_goes_to_zero():
    """c_skip = sd^2/(s^2+sd^2) -> 1 and c_out = s*sd/sqrt(s^2+sd^2) -> 0 as s -> 0."""
    x = torch.randn(SHAPE)
    d = denoise(Spy(torch.tensor(100.0)), x, torch.full((2,), 1e-7))
    torch.testing.assert_close(d, x, atol=1e-4, rtol=0)  # error ~ 100 * 1e-7
    d_large = denoise(Spy(torch.tensor(100.0)), x, torch.full((2,), 80.0))
    assert (d_large - x).abs().min() > 10  # far from 0 the network's output dominates


def test_training_sigma_is_lognormal_and_clipped():
    cfg = EDMConfig()
    s = lognormal_sigma(20000, cfg.p_mean, cfg.p_std, cfg.sigma_min, cfg.sigma_max,
                        torch.Generator().manual_seed(0))
    assert s.min() >= 2e-4 and s.max() <= 80.0
    assert float(s.log().median()) == pytest.approx(0.0, abs=0.05)
    assert float(s.log().std()) == pytest.approx(1.0, abs=0.05)
    tight = lognormal_sigma(1000, 0.0, 10.0, 2e-4, 80.0, torch.Generator().manual_seed(1))
    assert float(tight.min()) == pytest.approx(2e-4) and float(tight.max()) == pytest.approx(80.0)


def cond_first_frame(batch=2, frames=4):
    mask = torch.zeros(batch, frames, dtype=torch.bool)
    mask[:, 0] = True
    return mask


def test_loss_ignores_conditioning_frames():
    x0, cond = torch.randn(SHAPE), cond_first_frame()
    fill = torch.randn(SHAPE)
    on_cond = fill.clone()
    on_cond[:, :, 0] += 50.0  # different output on the conditioning frame only
    off_cond = fill.clone()
    off_cond[:, :, 1] += 50.0
    losses = [float(training_loss(Spy(f), x0, cond, generator=torch.Generator().manual_seed(0)))
              for f in (fill, on_cond, off_cond)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    assert losses[2] > 10 * losses[0]


def test_conditioning_frames_enter_clean_unless_augmented():
    x0, cond = torch.randn(SHAPE), cond_first_frame()
    spy = Spy(torch.zeros(()))
    training_loss(spy, x0, cond, generator=torch.Generator().manual_seed(0))
    seen = spy.inputs[0]  # c_in * x; at sigma 0, c_in = 1 / sigma_data = 2
    torch.testing.assert_close(seen[:, :, 0], 2.0 * x0[:, :, 0])
    assert (seen[:, :, 1:] - 2.0 * x0[:, :, 1:]).abs().max() > 1e-2
    spy_aug = Spy(torch.zeros(()))
    training_loss(spy_aug, x0, cond, EDMConfig(cond_noise_aug=True), torch.Generator().manual_seed(0))
    assert not torch.allclose(spy_aug.inputs[0][:, :, 0], 2.0 * x0[:, :, 0])


def test_karras_schedule():
    s = karras_sigmas(10)
    assert s.shape == (11,) and float(s[-1]) == 0.0
    assert float(s[0]) == pytest.approx(80.0) and float(s[-2]) == pytest.approx(0.002)
    assert bool((s[1:] < s[:-1]).all())


@pytest.mark.parametrize("method,steps", [("euler", 8), ("heun", 5)])
def test_sampler_lands_on_the_single_data_point(method, steps):
    """Data = one point x*: the optimal denoiser is D(x, sigma) = x*, and the ODE ends at x*."""
    x_star = torch.randn(SHAPE)
    calls = []

    def optimal(x, sigma):
        calls.append(sigma)
        return x_star.expand_as(x)

    out = sample(optimal, torch.randn(SHAPE), steps=steps, method=method)
    torch.testing.assert_close(out, x_star, atol=1e-5, rtol=0)
    assert len(calls) == (steps if method == "euler" else 2 * steps - 1)


def test_samplers_converge_on_gaussian_data_at_their_order():
    """Data ~ N(mu, s^2): D(x, sigma) = mu + s^2 / (s^2 + sigma^2) (x - mu), and the ODE's exact
    solution from x_T at sigma_max is mu + (x_T - mu) * s / sqrt(s^2 + sigma_max^2). Doubling the
    steps halves Euler's error (first order) and quarters Heun's (second order)."""
    mu, s = 0.7, 0.3

    def optimal(x, sigma):
        return mu + s**2 / (s**2 + sigma.view(-1, 1, 1, 1, 1) ** 2) * (x - mu)

    noise = torch.randn(4, 2, 4, 4, 4, generator=torch.Generator().manual_seed(0))
    exact = mu + (80.0 * noise - mu) * s / math.sqrt(s**2 + 80.0**2)

    def error(method, steps):
        return float((sample(optimal, noise, steps=steps, method=method) - exact).abs().max())

    assert 0.4 < error("euler", 40) / error("euler", 20) < 0.6
    assert 0.15 < error("heun", 40) / error("heun", 20) < 0.35
    assert error("heun", 35) < 0.025 * float((exact - mu).abs().max())  # 35 steps: within 2.5%


def test_sampler_keeps_conditioning_frames(tiny_cfg, randomize):
    model = randomize(DiT(tiny_cfg(in_channels=3)))
    x_cond = torch.randn(2, 3, 4, 2, 2)
    cond = model.default_cond_mask(2, 4)
    out = sample(make_denoiser(model, cond, x_cond), torch.randn(x_cond.shape), steps=3,
                 method="heun", cond_mask=cond, x_cond=x_cond)
    assert torch.equal(out[:, :, :1], x_cond[:, :, :1])
    assert not torch.allclose(out[:, :, 1:], x_cond[:, :, 1:])


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="method="):
        sample(lambda x, s: x, torch.zeros(SHAPE), steps=2, method="rk4")
    with pytest.raises(ValueError, match="together"):
        sample(lambda x, s: x, torch.zeros(SHAPE), steps=2, cond_mask=cond_first_frame())



def test_packed_loss_matches_the_batched_loss_draw_for_draw():
    """One clip: packed and batched losses draw the same sigma and noise, so they agree exactly;
    a second clip that is all conditioning frames adds nothing to the average."""
    from worldsim.diffusion.edm import EDMConfig, training_loss, training_loss_packed

    class Scale(torch.nn.Module):   # element-wise, so packing cannot change its output
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(0.3))

        def forward(self, x, c_noise, cond_mask=None):
            return [self.w * xi for xi in x] if isinstance(x, list) else self.w * x

    x0 = torch.randn(1, 3, 4, 2, 2)
    mask = torch.tensor([[True, False, False, False]])
    batched = training_loss(Scale(), x0, mask, EDMConfig(), torch.Generator().manual_seed(5))
    packed = training_loss_packed(Scale(), [x0[0]], [mask[0]], EDMConfig(), torch.Generator().manual_seed(5))
    torch.testing.assert_close(packed, batched)
    all_cond = torch.ones(2, dtype=torch.bool)
    two = training_loss_packed(Scale(), [x0[0], torch.randn(3, 2, 2, 2)], [mask[0], all_cond],
                               EDMConfig(), torch.Generator().manual_seed(5))
    torch.testing.assert_close(two, batched)
