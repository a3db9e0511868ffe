"""VideoTokenizer: shapes per compression, images, causality, FSQ path, overfitting, save/load."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from worldsim.config import load_config
from worldsim.tokenizer.model import TokenizerConfig, VideoTokenizer


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors gain nothing from threads, and on a busy 2-core machine OpenMP threads
    spin-waiting for a descheduled peer made the overfit test ~200x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(**kw) -> VideoTokenizer:
    torch.manual_seed(0)
    return VideoTokenizer(TokenizerConfig(**{"channels": 8, "channel_mult": [1, 2], **kw}))


def clip(T, H=16, W=16, B=1):
    torch.manual_seed(1)
    return torch.rand(B, 3, T, H, W) * 2 - 1


@pytest.mark.parametrize(
    "kw,T,latent",
    [
        (dict(temporal_compression=1, spatial_compression=8), 5, (2, 16, 5, 2, 2)),
        (dict(temporal_compression=4, spatial_compression=8), 9, (2, 16, 3, 2, 2)),
        (dict(temporal_compression=4, spatial_compression=8), 1, (2, 16, 1, 2, 2)),
        (dict(temporal_compression=4, spatial_compression=4), 5, (2, 16, 2, 4, 4)),
        (dict(temporal_compression=4, spatial_compression=16, latent_channels=4), 5, (2, 4, 2, 1, 1)),
        (dict(temporal_compression=8, spatial_compression=8, attention=False), 9, (2, 16, 2, 2, 2)),
        (dict(temporal_compression=4, spatial_compression=8, haar_levels=1), 9, (2, 16, 3, 2, 2)),
        (dict(kind="discrete", fsq_levels=[8, 5, 5]), 5, (2, 3, 2, 2, 2)),
    ],
)
def test_shapes(kw, T, latent):
    tok = tiny(**kw)
    video = clip(T, B=2)
    encoded = tok.encode(video)
    z = encoded[0] if tok.cfg.kind == "discrete" else encoded
    assert z.shape == latent == tok.latent_shape(video.shape)
    recon, aux = tok(video)
    assert recon.shape == video.shape and aux["latents"].shape == latent


CAUSAL_CONFIGS = [dict(), dict(temporal_compression=8), dict(haar_levels=1), dict(temporal_compression=1)]


@pytest.mark.parametrize("kw", CAUSAL_CONFIGS)
def test_encoder_and_decoder_are_causal(kw):
    tok = tiny(**kw).double()
    s_t = tok.cfg.temporal_compression
    video = clip(1 + 2 * s_t).double()
    with torch.no_grad():
        z = tok.encode(video)
        for k in range(video.shape[2]):
            changed = video.clone()
            changed[:, :, k] += 0.5
            diff = (tok.encode(changed) - z).abs().amax(dim=(0, 1, 3, 4))  # (T',)
            group = 0 if k == 0 else 1 + (k - 1) // s_t
            assert torch.all(diff[:group] == 0) and diff[group] > 0, (k, diff)
        recon = tok.decode(z)
        for j in range(z.shape[2]):
            changed = z.clone()
            changed[:, :, j] += 0.5
            diff = (tok.decode(changed) - recon).abs().amax(dim=(0, 1, 3, 4))  # (T,)
            first = 0 if j == 0 else 1 + (j - 1) * s_t
            assert torch.all(diff[:first] == 0) and diff[first] > 0, (j, diff)


def test_prefix_and_image_encode_like_the_full_clip():
    tok = tiny().eval()
    video = clip(9)
    with torch.no_grad():
        full = tok.encode(video)  # (1, 16, 3, 2, 2)
        torch.testing.assert_close(tok.encode(video[:, :, :5]), full[:, :, :2])
        torch.testing.assert_close(tok.encode(video[:, :, :1]), full[:, :, :1])
        torch.testing.assert_close(tok.decode(full[:, :, :2]), tok.decode(full)[:, :, :5])


def test_discrete_indices_decode_like_codes():
    tok = tiny(kind="discrete", fsq_levels=[8, 8, 8, 5, 5, 5])
    codes, indices = tok.encode(clip(5))
    assert indices.shape == (1, 2, 2, 2) and indices.dtype == torch.long
    assert tok.quantizer.codebook_size == 64_000
    with torch.no_grad():
        torch.testing.assert_close(tok.decode_indices(indices), tok.decode(codes))


@pytest.mark.parametrize("kind", ["continuous", "discrete"])
def test_tiny_model_overfits_one_clip(kind):
    tok = tiny(kind=kind, spatial_compression=4, attention=False)
    t = torch.linspace(-1, 1, 16)
    blob = lambda c: torch.exp(-((t[:, None] - c) ** 2 + t[None, :] ** 2) * 6)  # noqa: E731
    frames = torch.stack([blob(c) for c in torch.linspace(-0.5, 0.5, 5)])  # (T, H, W)
    video = (torch.stack([frames, frames.flip(-1), 1 - frames]) * 1.6 - 0.8)[None]  # (1, 3, 5, 16, 16)
    opt = torch.optim.Adam(tok.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss, metrics = tok.loss(video)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(metrics["loss"])
    assert losses[-1] < losses[0] / 5, losses[::10]
    assert metrics["psnr"] > 25, metrics


def test_loss_reports_metrics_and_backpropagates():
    tok = tiny(kind="discrete", fsq_levels=[5, 5, 5])
    loss, metrics = tok.loss(clip(5))
    loss.backward()
    assert {"loss", "l1", "gradient", "ssim", "psnr", "codebook_usage"} <= metrics.keys()
    assert all(isinstance(v, float) for v in metrics.values())
    assert all(p.grad is not None for p in tok.encoder.parameters())


@pytest.mark.parametrize("kind", ["continuous", "discrete"])
def test_safetensors_round_trip_gives_identical_outputs(kind, tmp_path):
    tok = tiny(kind=kind).eval()
    save_file(tok.state_dict(), tmp_path / "model.safetensors")
    torch.manual_seed(123)
    fresh = VideoTokenizer(tok.cfg).eval()
    video = clip(5)
    with torch.no_grad():
        assert not torch.equal(fresh(video)[0], tok(video)[0])
        fresh.load_state_dict(load_file(tmp_path / "model.safetensors"))
        assert torch.equal(fresh(video)[0], tok(video)[0])


def test_default_config_is_cpu_sized():
    tok = VideoTokenizer(TokenizerConfig())
    assert 1_000_000 <= tok.num_parameters() <= 5_000_000
    assert tok.latent_shape((1, 3, 17, 64, 64)) == (1, 16, 5, 8, 8)


def test_config_loads_through_omegaconf():
    cfg = load_config(TokenizerConfig, overrides=["kind=discrete", "fsq_levels=[8,5,5]", "loss.ssim_weight=0"])
    assert cfg.kind == "discrete" and cfg.fsq_levels == [8, 5, 5] and cfg.loss.ssim_weight == 0
    assert cfg.latent_dim == 3
    with pytest.raises(Exception, match="spatial_compresion|valid keys"):
        load_config(TokenizerConfig, overrides=["spatial_compresion=8"])


def test_bad_config_and_input_are_clear_errors():
    with pytest.raises(ValueError, match="kind='vq'"):
        TokenizerConfig(kind="vq")
    with pytest.raises(ValueError, match="spatial_compression=6"):
        TokenizerConfig(spatial_compression=6)
    tok = tiny()
    with pytest.raises(ValueError, match="T = 1 \\+ k \\* 4"):
        tok.encode(clip(4))
    with pytest.raises(ValueError, match="divisible by 8"):
        tok.encode(clip(5, H=12))
    with pytest.raises(ValueError, match="latents must be"):
        tok.decode(torch.zeros(1, 3, 2, 2, 2))
