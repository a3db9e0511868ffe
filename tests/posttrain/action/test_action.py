"""Action conditioning: the base function is kept at step 0, actions matter once trained, per-frame
embeddings reach only their frame, LoRA starts as the base and merges exactly."""

import pytest
import torch

from helpers import TINY_DIT, randomized
from posttrain.action.model import ActionDiT, ActionDiTConfig
from posttrain.common.base import load_base_weights
from posttrain.common.lora import LoRAConfig, apply_lora, lora_parameters, merge_lora
from worldsim.diffusion.action_embed import group_actions
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.io import load_model_weights


def clip(seed=0, b=2, t=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 16, t, 4, 4, generator=gen)
    cond = torch.zeros(b, t, dtype=torch.bool)
    cond[:, 0] = True
    return x, torch.full((b,), 0.3), cond, torch.rand(b, t, 2, generator=gen) * 2 - 1


def test_post_trained_model_at_step_zero_is_the_base_model(base_run):
    base = DiT(DiTConfig(**TINY_DIT))
    load_model_weights(base, base_run)
    net = ActionDiT(ActionDiTConfig(dit=DiTConfig(**TINY_DIT), action_dim=2))
    load_base_weights(net, base_run)
    x, c_noise, cond, actions = clip()
    with torch.no_grad():
        assert torch.equal(net(x, c_noise, actions, cond), base(x, c_noise, cond_mask=cond))


def test_actions_change_the_output_only_through_non_conditioning_frames(base_run):
    net = ActionDiT(ActionDiTConfig(dit=DiTConfig(**TINY_DIT), action_dim=2))
    load_base_weights(net, base_run)
    randomized(net.action_embedder, seed=3)
    x, c_noise, cond, actions = clip()
    other = actions.clone()
    other[:, 2] = -actions[:, 2]
    on_cond = actions.clone()
    on_cond[:, 0] = 5.0
    with torch.no_grad():
        out = net(x, c_noise, actions, cond)
        assert (net(x, c_noise, other, cond) - out).abs().max() > 1e-4
        assert torch.equal(net(x, c_noise, on_cond, cond), out)


def test_a_per_frame_embedding_equal_on_every_frame_is_the_per_sample_one():
    torch.manual_seed(0)
    model = randomized(DiT(DiTConfig(**TINY_DIT)))
    x, c_noise, cond, _ = clip()
    emb = torch.randn(2, 32)
    with torch.no_grad():
        per_sample = model(x, c_noise, extra_emb=emb, cond_mask=cond)
        per_frame = model(x, c_noise, extra_emb=emb[:, None].expand(2, 3, 32), cond_mask=cond)
        changed = emb[:, None].repeat(1, 3, 1)
        changed[:, 2] += 1.0
        moved = model(x, c_noise, extra_emb=changed, cond_mask=cond)
    torch.testing.assert_close(per_frame, per_sample, rtol=1e-5, atol=1e-6)
    assert (moved[:, :, 2] - per_sample[:, :, 2]).abs().max() > 1e-4
    with pytest.raises(ValueError, match="per-frame extra_emb"):
        model(x, c_noise, extra_emb=torch.zeros(2, 5, 32))


def test_group_actions_puts_action_t_on_latent_frame_t_plus_1():
    actions = torch.arange(8, dtype=torch.float32).reshape(1, 4, 2)  # (B, T_video, A)
    grouped = group_actions(actions, per_latent_frame=1, latent_frames=4)
    assert grouped.shape == (1, 4, 2)
    assert torch.equal(grouped[0, 0], torch.zeros(2)) and torch.equal(grouped[0, 1], actions[0, 0])
    assert group_actions(actions, per_latent_frame=2).shape == (1, 3, 4)
    with pytest.raises(ValueError, match="latent frames need"):
        group_actions(actions, per_latent_frame=2, latent_frames=4)


def test_lora_starts_as_the_base_freezes_it_and_merges_exactly(base_run):
    net = ActionDiT(ActionDiTConfig(dit=DiTConfig(**TINY_DIT), action_dim=2))
    load_base_weights(net, base_run)
    x, c_noise, cond, actions = clip()
    with torch.no_grad():
        before = net(x, c_noise, actions, cond)
    adapted = apply_lora(net.dit, LoRAConfig(rank=2))
    assert adapted == 4 * TINY_DIT["num_layers"]
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_" in n or n.startswith("action_embedder") for n in trainable)
    with torch.no_grad():
        assert torch.equal(net(x, c_noise, actions, cond), before)
        randomized(torch.nn.ParameterList(lora_parameters(net)), seed=5, scale=0.05)
        adapted_out = net(x, c_noise, actions, cond)
    assert (adapted_out - before).abs().max() > 1e-4
    assert merge_lora(net) == adapted and not any(".lora_" in k for k in net.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(net(x, c_noise, actions, cond), adapted_out, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="match no linear layer"):
        apply_lora(net.dit, LoRAConfig(rank=2, targets=["*nothing"]))
