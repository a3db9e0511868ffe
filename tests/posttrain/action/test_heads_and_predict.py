"""State head, conv predictor and the one-step predictors (deterministic, few-step diffusion)."""

import pytest
import torch

from helpers import TINY_DIT, randomized
from posttrain.action.model import ActionDiT, ActionDiTConfig
from posttrain.action.deterministic import ConvPredictor, ConvPredictorConfig
from posttrain.action.predict import predict_next
from posttrain.common.predict import PredictConfig
from posttrain.action.state_head import StateHead, StateHeadConfig
from worldsim.diffusion.dit import DiTConfig


def test_state_head_shapes_normalisation_and_it_learns():
    torch.manual_seed(0)
    head = StateHead(StateHeadConfig(latent_channels=4, latent_hw=(4, 8), agent_dim=2, env_dim=4, channels=8, hidden=16))
    latents = torch.randn(32, 4, 4, 8)
    target = torch.cat([latents[:, 0, :2, 0], 10 + latents[:, 1, :4, 1]], dim=-1)  # (32, 6), a readable function
    head.set_normalization(target.mean(0), target.std(0))
    agent, env = head(latents)
    assert agent.shape == (32, 2) and env.shape == (32, 4)
    assert abs(float(env.mean()) - 10) < 1  # outputs come back in the labels' units
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    first = float(head.loss(latents, target))
    for _ in range(60):
        opt.zero_grad()
        head.loss(latents, target).backward()
        opt.step()
    assert float(head.loss(latents, target)) < 0.3 * first


def test_conv_predictor_starts_as_nothing_moves_and_checks_its_input():
    net = ConvPredictor(ConvPredictorConfig(latent_channels=4, context_frames=2, action_dim=2, channels=8, blocks=1))
    context = torch.randn(3, 4, 2, 4, 4)
    assert torch.equal(net(context, torch.zeros(3, 2)), context[:, :, -1])
    with pytest.raises(ValueError, match="context must be"):
        net(torch.randn(3, 4, 1, 4, 4), torch.zeros(3, 2))


def test_diffusion_step_gives_each_env_its_own_noise_and_follows_actions():
    torch.manual_seed(0)
    net = randomized(ActionDiT(ActionDiTConfig(dit=DiTConfig(**TINY_DIT), action_dim=2)), seed=2, scale=0.05)
    cfg = PredictConfig(kind="diffusion", steps=2, sampler="heun")
    context, actions = torch.randn(3, 16, 1, 4, 4), torch.rand(3, 2) * 2 - 1
    gens = lambda: [torch.Generator().manual_seed(s) for s in (7, 8, 9)]  # noqa: E731
    batched = predict_next(net, context, actions, cfg, gens())
    alone = torch.cat([predict_next(net, context[i:i + 1], actions[i:i + 1], cfg, [gens()[i]]) for i in range(3)])
    torch.testing.assert_close(batched, alone, rtol=1e-4, atol=1e-4)
    assert torch.equal(batched, predict_next(net, context, actions, cfg, gens()))  # seeded: reproducible
    other = predict_next(net, context, -actions, cfg, gens())
    assert (other - batched).abs().max() > 1e-4
    with pytest.raises(ValueError, match="generators for a batch"):
        predict_next(net, context, actions, cfg, gens()[:2])
    with pytest.raises(ValueError, match="kind="):
        PredictConfig(kind="magic")


def test_pixel_codec_is_lossless_and_parses_its_spec():
    from posttrain.common.codec import load_codec, pixel_patch

    codec = load_codec("pixels:4")
    video = torch.rand(2, 3, 3, 8, 12) * 2 - 1
    z = codec.encode(video)
    assert z.shape == (2, 48, 3, 2, 3) and torch.equal(codec.decode(z), video)
    assert torch.equal(z[0, :, 0, 0, 0].reshape(3, 4, 4), video[0, :, 0, :4, :4])  # a latent pixel is a patch
    assert pixel_patch("pixels") == 8 and pixel_patch("runs/tokenizer") is None
    with pytest.raises(ValueError, match="positive patch size"):
        pixel_patch("pixels:x")


def test_changed_elements_weigh_more_by_hand():
    """last = 0, target = [0, 0, 1, 0], pred = 0: one changed element with squared error 1;
    weights [1, 1, 1 + w, 1] give (1 + w) / (4 + w): 1/4 for w = 0, 21/24 for w = 20."""
    from posttrain.action.losses import weighted_mse

    last, pred = torch.zeros(1, 4), torch.zeros(1, 4)
    target = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    assert weighted_mse(pred, target, last, 0.0).item() == pytest.approx(0.25)
    assert weighted_mse(pred, target, last, 20.0).item() == pytest.approx(21 / 24)
    # nothing changed: the plain mean, whatever the weight
    assert weighted_mse(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), torch.zeros(1, 4), last, 20.0).item() == pytest.approx(1 / 4)


def test_deadband_keeps_small_changes_out_by_hand():
    from posttrain.action.predict import apply_deadband
    from posttrain.common.predict import PredictConfig

    last = torch.tensor([0.0, 0.5, -0.2])
    pred = torch.tensor([0.03, 0.9, -0.25])   # changes 0.03, 0.4, -0.05
    assert torch.equal(apply_deadband(last, pred, 0.1), torch.tensor([0.0, 0.9, -0.2]))
    assert torch.equal(apply_deadband(last, pred, 0.01), pred)
    with pytest.raises(ValueError, match="deadband=-1"):
        PredictConfig(deadband=-1)
