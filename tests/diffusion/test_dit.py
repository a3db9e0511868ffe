"""DiT layer, block and model: identity at init, shapes, packed == unpacked, conditioning inputs,
and a tiny model overfitting one latent clip."""

from __future__ import annotations

import pytest
import torch
from megatron.core.transformer.spec_utils import build_module
from megatron.core.transformer.torch_norm import WrappedTorchNorm

from worldsim.diffusion.dit import DiT
from worldsim.diffusion.dit_block import DiTBlock
from worldsim.diffusion.edm import EDMConfig, training_loss
from worldsim.diffusion.layer_spec import get_layer_spec
from worldsim.diffusion.rope3d import rope3d_freqs

C, IN = 32, 4


def layer_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(12, 2, C, generator=g)  # (S, B, C) for a (3, 2, 2) grid
    emb = torch.randn(2, C, generator=g)
    context = torch.randn(5, 2, C, generator=g)  # (L, B, C)
    return x, emb, context, rope3d_freqs((3, 2, 2), C // 2)


def test_fresh_layer_is_identity_and_gates_open_when_trained(tiny_cfg, randomize):
    tcfg = tiny_cfg().transformer_config()
    layer = build_module(get_layer_spec("cpu", cross_attention=True), config=tcfg, layer_number=1,
                         adaln_lora_dim=8)
    x, emb, context, freqs = layer_inputs()
    assert torch.equal(layer(x, emb, context=context, rotary_pos_emb=freqs), x)
    randomize(layer)
    assert (layer(x, emb, context=context, rotary_pos_emb=freqs) - x).abs().max() > 1e-3


def test_block_final_norm_is_optional(tiny_cfg):
    tcfg = tiny_cfg().transformer_config()
    spec = get_layer_spec("cpu")
    x, emb, _, freqs = layer_inputs()
    plain = DiTBlock(tcfg, spec, adaln_lora_dim=8)
    normed = DiTBlock(tcfg, spec, adaln_lora_dim=8, final_norm=WrappedTorchNorm)
    assert len(plain.layers) == 2 and [k for k, _ in plain.named_children()] == ["0", "1"]
    assert torch.equal(plain(x, emb, rotary_pos_emb=freqs), x)
    torch.testing.assert_close(normed(x, emb, rotary_pos_emb=freqs), normed.final_layernorm(x))


def test_cosmos_style_keys(tiny_cfg):
    keys = DiT(tiny_cfg(cross_attention=True)).state_dict().keys()
    for key in ("x_embedder.proj.weight", "t_embedder.1.linear_1.weight",
                "blocks.1.self_attention.linear_qkv.weight", "blocks.0.self_attention.q_layernorm.weight",
                "blocks.0.cross_attention.linear_kv.weight", "blocks.0.mlp.linear_fc1.weight",
                "blocks.0.adaln_modulation_mlp.2.weight", "final_layer.linear.weight"):
        assert key in keys, key


def test_qk_norm_is_optional(tiny_cfg):
    model = DiT(tiny_cfg(qk_norm=False))
    assert not any("layernorm" in k for k in model.state_dict())
    x = torch.randn(1, IN, 2, 4, 4)
    assert model(x, torch.zeros(1)).shape == x.shape


def test_forward_shapes_batch_and_variable_length_packed(tiny_cfg, randomize):
    model = randomize(DiT(tiny_cfg()))
    x = torch.randn(2, IN, 3, 4, 6)
    assert model(x, torch.zeros(2)).shape == x.shape
    videos = [torch.randn(IN, 3, 4, 4), torch.randn(IN, 1, 4, 4), torch.randn(IN, 2, 6, 2)]
    outs = model(videos, torch.zeros(3))
    assert [o.shape for o in outs] == [v.shape for v in videos]


def test_packed_equals_each_sample_alone(tiny_cfg, randomize):
    model = randomize(DiT(tiny_cfg(cross_attention=True)))
    g = torch.Generator().manual_seed(0)
    videos = [torch.randn(IN, 3, 4, 4, generator=g), torch.randn(IN, 2, 2, 6, generator=g)]
    c_noise, context = torch.tensor([0.3, -1.0]), torch.randn(2, 5, 12, generator=g)
    cond = [torch.tensor([True, False, False]), torch.tensor([True, False])]
    outs = model(videos, c_noise, context=context, cond_mask=cond)
    for i, v in enumerate(videos):
        alone = model(v[None], c_noise[i : i + 1], context=context[i : i + 1], cond_mask=cond[i][None])
        torch.testing.assert_close(outs[i], alone[0], atol=1e-5, rtol=1e-5)


def test_batch_through_the_packed_path_matches(tiny_cfg, randomize):
    model = randomize(DiT(tiny_cfg()))
    x, c_noise = torch.randn(2, IN, 2, 4, 4), torch.tensor([0.1, 0.7])
    torch.testing.assert_close(model(x, c_noise, packed=True), model(x, c_noise), atol=1e-5, rtol=1e-5)


def test_conditioning_inputs_reach_the_output(tiny_cfg, randomize):
    model = randomize(DiT(tiny_cfg()))
    x, c_noise = torch.randn(1, IN, 2, 4, 4), torch.zeros(1)
    base = model(x, c_noise)
    assert torch.equal(model(x, c_noise, extra_emb=torch.zeros(1, C)), base)
    assert (model(x, c_noise, extra_emb=torch.ones(1, C)) - base).abs().max() > 1e-4
    assert (model(x, c_noise, cond_mask=model.default_cond_mask(1, 2)) - base).abs().max() > 1e-4
    assert (model(x, c_noise + 1.0) - base).abs().max() > 1e-4


def test_default_cond_mask_marks_the_first_frames(tiny_cfg):
    mask = DiT(tiny_cfg(num_cond_frames=2)).default_cond_mask(2, 4)
    assert mask.tolist() == [[True, True, False, False]] * 2


def test_bad_latent_size_names_the_patch(tiny_cfg):
    with pytest.raises(ValueError, match="patch_size"):
        DiT(tiny_cfg())(torch.randn(1, IN, 2, 5, 4), torch.zeros(1))


def test_layer_checkpointing_gives_the_same_gradients(tiny_cfg, randomize):
    x = torch.randn(1, IN, 2, 4, 4)
    grads = []
    for flag in (False, True):
        torch.manual_seed(0)
        model = randomize(DiT(tiny_cfg(checkpoint_layers=flag)))
        model(x, torch.zeros(1)).square().sum().backward()
        grads.append(model.blocks.layers[0].self_attention.linear_qkv.weight.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_tiny_dit_overfits_one_clip(tiny_cfg):
    """The weighted EDM loss on one clip (fixed noise draws) falls several-fold in 100 steps."""
    torch.manual_seed(0)
    model = DiT(tiny_cfg())
    clip = 0.5 * torch.randn(1, IN, 3, 4, 4)
    batch, cond = clip.expand(16, -1, -1, -1, -1), model.default_cond_mask(16, 3)

    def eval_loss():
        with torch.no_grad():
            return float(training_loss(model, clip.expand(64, -1, -1, -1, -1),
                                       model.default_cond_mask(64, 3), EDMConfig(),
                                       generator=torch.Generator().manual_seed(123)))

    before = eval_loss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        opt.zero_grad()
        training_loss(model, batch, cond).backward()
        opt.step()
    after = eval_loss()
    assert after < 0.3 * before, (before, after)
