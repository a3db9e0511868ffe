"""Control branches: exactly the base at initialisation, they matter once trained, weights are
pooled and renormalised as stated, and the posttrain recipe trains, saves, loads and exports."""

from __future__ import annotations

import pytest
import torch
from helpers import TINY_DIT, randomized
from transfer_helpers import tiny_transfer_data, tiny_transfer_run

from posttrain.common.base import load_base_weights
from posttrain.transfer.model import TransferDiT, TransferDiTConfig, weight_tokens
from worldsim.diffusion.dit import DiT, DiTConfig
from worldsim.io import load_model_weights

CONTROLS = ["edge", "depth", "segmentation"]


def inputs(seed=0, b=2, t=2):
    """Latents on a 4x4 grid (32 px at 8 px per cell), control maps and weights for them."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 16, t, 4, 4, generator=gen)
    controls = {"edge": (torch.rand(b, 1, t, 32, 32, generator=gen) > 0.8).float(),
                "depth": torch.rand(b, 1, t, 32, 32, generator=gen),
                "segmentation": torch.rand(b, 3, t, 32, 32, generator=gen)}
    weights = {"edge": torch.rand(b, t, 32, 32, generator=gen), "depth": 0.7, "segmentation": 1.0}
    cond = torch.zeros(b, t, dtype=torch.bool)
    cond[:, 0] = True
    return x, torch.full((b,), 0.3), cond, controls, weights


def transfer_net(base_run) -> TransferDiT:
    net = TransferDiT(TransferDiTConfig(dit=DiTConfig(**TINY_DIT), controls=CONTROLS, branch_blocks=1))
    load_base_weights(net, base_run)
    net.copy_base_into_branches()
    return net


def test_at_initialisation_the_transfer_model_is_exactly_the_base(base_run):
    base = DiT(DiTConfig(**TINY_DIT))
    load_model_weights(base, base_run)
    net = transfer_net(base_run)
    randomized(net.branches["edge"].control_embedder, seed=5)     # only the zero outputs keep it equal
    x, c_noise, cond, controls, weights = inputs()
    with torch.no_grad():
        assert torch.equal(net(x, c_noise, cond, controls, weights), base(x, c_noise, cond_mask=cond))
    for name in CONTROLS:                                          # branch blocks start as the base's first
        copied = net.branches[name].blocks.layers[0].state_dict()
        for key, value in base.blocks.layers[0].state_dict().items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(copied[key], value), key


def test_after_a_few_steps_the_branch_matters_and_weight_zero_is_the_base(base_run):
    net = transfer_net(base_run)
    net.dit.requires_grad_(False)
    before = {k: v.clone() for k, v in net.dit.state_dict().items() if isinstance(v, torch.Tensor)}
    opt = torch.optim.Adam(net.branch_parameters(), lr=1e-2)
    x, c_noise, cond, controls, weights = inputs()
    target = torch.randn_like(x)
    for _ in range(4):
        loss = (net(x, c_noise, cond, controls, weights) - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    other = {**controls, "edge": 1 - controls["edge"]}
    with torch.no_grad():
        base = net(x, c_noise, cond)                               # no controls: the base alone
        out = net(x, c_noise, cond, controls, weights)
        assert (out - base).abs().max() > 1e-3
        assert (net(x, c_noise, cond, other, weights) - out).abs().max() > 1e-4
        zero = {"edge": 0.0, "depth": 0.0, "segmentation": 0.0}
        assert torch.equal(net(x, c_noise, cond, controls, zero), base)
    for key, value in net.dit.state_dict().items():                # the frozen base did not move
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, before[key]), key


def test_weight_maps_pool_to_tokens_and_renormalise(base_run):
    ref = torch.zeros(1)
    w = torch.zeros(1, 1, 32, 32)
    w[..., :16] = 1.0                                              # left half on
    w[0, 0, :16, 16:24] = 0.5                                      # a quarter of the top-right token at 0.5
    tokens = weight_tokens(w, 4, 1, (1, 16, 16), ref)              # (S, B, 1), tokens in (h, w) order
    torch.testing.assert_close(tokens[:, 0, 0], torch.tensor([1.0, 0.25, 1.0, 0.0]))
    assert weight_tokens(0.3, 4, 2, (1, 16, 16), ref).shape == (4, 2, 1)
    # Two controls at weight 1 sum to 2 and are each halved: the same as passing 0.5 and 0.5.
    net = transfer_net(base_run)
    randomized(net.branches, seed=2)
    x, c_noise, cond, controls, _ = inputs()
    two = {k: controls[k] for k in ("edge", "depth")}
    with torch.no_grad():
        torch.testing.assert_close(net(x, c_noise, cond, two, {"edge": 1.0, "depth": 1.0}),
                                   net(x, c_noise, cond, two, {"edge": 0.5, "depth": 0.5}))
        assert (net(x, c_noise, cond, two, {"edge": 0.2, "depth": 0.2})
                - net(x, c_noise, cond, two, {"edge": 0.5, "depth": 0.5})).abs().max() > 1e-4


def test_bad_model_inputs_are_clear_errors(base_run):
    with pytest.raises(ValueError, match="branch_blocks=5"):
        TransferDiT(TransferDiTConfig(dit=DiTConfig(**TINY_DIT), branch_blocks=5))
    with pytest.raises(ValueError, match="'normals' is not allowed"):
        TransferDiT(TransferDiTConfig(dit=DiTConfig(**TINY_DIT), controls=["normals"]))
    net = transfer_net(base_run)
    x, c_noise, cond, controls, _ = inputs()
    with pytest.raises(ValueError, match="'blur' has no branch"):
        net(x, c_noise, cond, {"blur": controls["segmentation"]})
    with pytest.raises(ValueError, match="20x20 do not divide"):
        net(x, c_noise, cond, {"depth": controls["depth"][..., :20, :20]})


def test_posttrain_transfer_trains_saves_loads_and_exports(base_run, tmp_path):
    from posttrain.transfer.checkpoint import export_branches, load_transfer_model

    data = tiny_transfer_data(tmp_path / "data")
    run = tiny_transfer_run(tmp_path / "run", data, base=base_run)
    net, cfg, codec = load_transfer_model(str(tmp_path / "run"))
    assert cfg.controls.names == CONTROLS and cfg.image_hw == [32, 32] and not cfg.train_base
    base = DiT(DiTConfig(**TINY_DIT))
    load_model_weights(base, base_run)
    assert torch.equal(net.dit.final_layer.linear.weight, base.final_layer.linear.weight)   # frozen base
    assert any(p.abs().sum() > 0 for p in net.branches["edge"].zero_linears.parameters())  # branch trained
    slim = export_branches(str(run), str(tmp_path / "slim"))
    assert (slim / "model.safetensors").stat().st_size < (run / "model.safetensors").stat().st_size
    again, _, _ = load_transfer_model(str(slim))
    x, c_noise, cond, controls, weights = inputs()
    with torch.no_grad():
        assert torch.equal(again(x, c_noise, cond, controls, weights), net(x, c_noise, cond, controls, weights))
    with pytest.raises(ValueError, match="not a transfer model"):
        load_transfer_model(base_run)


def test_randomised_renders_leave_the_env_unchanged_and_vary_the_look():
    import numpy as np

    from envs.tabletop_push import TabletopPushEnv
    from worldsim.looks.randomize import RandomizeConfig, sample_look
    from worldsim.generation.transfer_data import render_looks

    plain, looked = (TabletopPushEnv(cameras=("top",), image_size=32) for _ in range(2))
    rng = np.random.default_rng(0)
    looks = [sample_look(looked.model, rng, RandomizeConfig()) for _ in range(2)]
    a, _ = plain.reset(seed=4)
    b, _ = looked.reset(seed=4)
    for t in range(3):
        frames = render_looks(looked, looks, "top", rng)
        for x, y in ((a["pixels"]["top"], b["pixels"]["top"]), (a["agent_pos"], b["agent_pos"]),
                     (a["environment_state"], b["environment_state"])):
            np.testing.assert_array_equal(x, y)
        assert np.abs(frames[0]["observation.images.top"].astype(int) - frames[1]["observation.images.top"]).mean() > 5
        seg = frames[0]["observation.segmentation.top"][..., 0]
        assert {3, 4, 5} <= set(np.unique(seg).tolist())            # goal, pusher, block are in view
        action = np.array([0.6, -0.4], np.float32)
        (a, ra, *_), (b, rb, *_) = plain.step(action), looked.step(action)
        assert ra == rb
    np.testing.assert_array_equal(plain.render_source.render_rgb()["top"], looked.render_source.render_rgb()["top"])


def test_fidelity_metrics_on_hand_made_frames():
    import numpy as np

    from posttrain.transfer.metrics import edge_f1, look_diversity, segmentation_agreement
    from worldsim.conditioning.control_maps import edge_map

    seg = np.zeros((1, 16, 16), np.int32)
    seg[0, 4:12, 4:12] = 1
    seg[0, 0:3, 0:3] = 2
    painted = np.zeros((1, 16, 16, 3), np.uint8)
    painted[seg == 1], painted[seg == 2] = (250, 40, 40), (40, 40, 250)
    flat = np.full((1, 16, 16, 3), 128, np.uint8)
    edges = edge_map(painted)[:, 0] > 0
    assert edge_f1(painted, edges) == 1.0 and edge_f1(flat, edges) == 0.0
    assert segmentation_agreement(painted, seg) == 1.0
    assert segmentation_agreement(flat, seg) == pytest.approx(1 / 3)     # every pixel to one class of three
    assert look_diversity(np.stack([painted, painted])) == 0.0
    assert look_diversity(np.stack([flat * 0, flat * 0 + 100])) == pytest.approx(50.0)   # std of {0, 100}
