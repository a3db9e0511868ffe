"""The Cosmos-style predictors of the pixel world model (posttrain.pixel_unet.latent_dit): a frozen
tokenizer and a megatron-core DiT behind the U-Net predictors' contract."""

import dataclasses

import numpy as np
import pytest
import torch

from posttrain.pixel_unet.config import LatentDiTConfig, PixelTrainConfig
from posttrain.pixel_unet.data import sample_windows
from posttrain.pixel_unet.predictors import make_predictor
from posttrain.pixel_unet.train import train_step
from tests.posttrain.pixel_unet.pixel_fixtures import edm, rollout_episodes
from worldsim.tokenizer.model import TokenizerConfig

pytestmark = pytest.mark.usefixtures("torch_one_thread")

TINY_TOKENIZER = TokenizerConfig(spatial_compression=4, temporal_compression=1, channels=8, latent_channels=8,
                                 attention=False)
TINY = LatentDiTConfig(context=4, tokenizer_model=TINY_TOKENIZER, hidden_size=64, num_layers=2, num_heads=2,
                       adaln_lora_dim=16, spec="cpu")


@pytest.fixture(scope="module")
def episodes():
    return rollout_episodes(count=2, steps=30)


def latent_error(model, win, layout=None) -> tuple[float, float]:
    """(predicted latent vs the next frame's, the last context frame's vs the next frame's): mean squared."""
    with torch.no_grad():
        sigma = torch.zeros(win.frames.shape[0])
        z_next = model.net.encode(win.frames[:, 4:5])[:, :, 0]
        z_last = model.net.encode(win.frames[:, 3:4])[:, :, 0]
        pred = model(win.frames[:, :4], win.actions[:, :4], sigma, layout=layout)
    return float(((pred - z_next) ** 2).mean()), float(((z_last - z_next) ** 2).mean())


@pytest.mark.parametrize("layout", [0, 2])
def test_the_latent_dit_learns_the_next_latent_beyond_copying(episodes, layout):
    """Trained a few seconds on 16 windows, the deterministic DiT predicts the next frame's latent
    with under half the error of copying the last one (with and without layout maps)."""
    from posttrain.pixel_unet.layout import Layout, LayoutConfig
    from posttrain.pixel_unet.untrained import linear_reader

    torch.manual_seed(0)
    net = dataclasses.replace(TINY, layout=layout)
    maps = Layout(LayoutConfig(), linear_reader()) if layout else None
    win = sample_windows(episodes, 16, 4, 1, np.random.default_rng(0))
    cfg = PixelTrainConfig(data="-", out="-", predictor="latent_deterministic", context_noise_max=0.0, changed_weight=0)
    model = make_predictor("latent_deterministic", net, edm())
    model.net.fit_scale(win.frames[:, 0])
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(120):
        loss = train_step(model, win, cfg, 1, gen, maps)
        opt.zero_grad()
        loss.backward()
        opt.step()
    learned, copy = latent_error(model, win, maps(win.sim_states[:, 4]) if maps else None)
    assert learned < 0.5 * copy, (learned, copy)


def test_latent_predictors_roll_out_and_keep_their_tokenizer_frozen(episodes):
    """Both kinds train on 2-step rollouts of their own frames; the tokenizer's weights never change
    and its latents are scaled to unit spread."""
    win = sample_windows(episodes, 4, 4, 2, np.random.default_rng(1))
    for kind in ("latent_deterministic", "latent_diffusion"):
        torch.manual_seed(0)
        model = make_predictor(kind, TINY, edm())
        scale = model.net.fit_scale(win.frames[:, 0])
        assert abs(float(model.net.encode(win.frames[:, :1]).std()) - 1.0) < 1e-3 and scale > 0
        before = {k: v.clone() for k, v in model.net.tokenizer.state_dict().items()}
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        cfg = PixelTrainConfig(data="-", out="-", predictor=kind)
        loss = train_step(model, win, cfg, 2, torch.Generator().manual_seed(0))
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
        assert all(torch.equal(v, model.net.tokenizer.state_dict()[k]) for k, v in before.items())
        out = model.predict(win.frames[:, :4], win.actions[:, :4], [torch.Generator().manual_seed(i) for i in range(4)])
        assert out.shape == (4, 3, 64, 64) and float(out.abs().max()) <= 1.0


def test_a_latent_predictor_needs_a_per_frame_tokenizer(tmp_path):
    with pytest.raises(ValueError, match="latent.tokenizer=RUN"):
        PixelTrainConfig(data="d", out="o", predictor="latent_diffusion").validate()
    with pytest.raises(ValueError, match="predictor='latent_x'"):
        PixelTrainConfig(data="d", out="o", predictor="latent_x").validate()
