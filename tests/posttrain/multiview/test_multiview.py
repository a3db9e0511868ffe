"""The multi-view driving world model: step inputs, base widening, view counts, training and sampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import helpers
from posttrain.multiview.model import MultiViewDiT, MultiViewDiTConfig, last_frames, multiview_inputs, widen_base_into
from worldsim.conditioning.view_embed import ViewEmbedConfig
from worldsim.config import to_dict
from worldsim.diffusion.dit import DiT, DiTConfig

CAMERAS = ["front", "front_left", "front_right", "back_left", "back", "back_right"]
TINY = dict(hidden_size=32, num_layers=2, num_heads=2, adaln_lora_dim=8, spec="cpu")


def tiny_net(c=4, e=3, views=3, action_dim=2) -> MultiViewDiT:
    torch.manual_seed(0)
    cfg = MultiViewDiTConfig(dit=DiTConfig(in_channels=c + e, **TINY), latent_channels=c,
                             views=ViewEmbedConfig(num_views=views, channels=e), action_dim=action_dim)
    return MultiViewDiT(cfg)


def test_step_inputs_fold_side_by_side_views_view_major():
    """View v of the side-by-side latents is width block v; in the folded clip it owns frames
    v*(K+1) .. v*(K+1)+K, of which the first K are conditioning and the last carries the action."""
    b, c, k, h, w, v = 2, 3, 2, 2, 4, 3
    context = torch.arange(b * c * k * h * v * w, dtype=torch.float32).reshape(b, c, k, h, v * w)
    slot = -torch.rand(b, c, h, v * w)
    action = torch.tensor([[0.5, -1.0], [0.25, 1.0]])
    x, mask, actions = multiview_inputs(context, action, slot, views=v)
    assert x.shape == (b, c, v * (k + 1), h, w)
    for view in range(v):
        block = slice(view * w, (view + 1) * w)
        assert torch.equal(x[:, :, view * (k + 1): view * (k + 1) + k], context[..., block])
        assert torch.equal(x[:, :, view * (k + 1) + k], slot[..., block])
    assert mask.tolist() == [[True, True, False] * v] * b
    assert torch.equal(actions[:, 2::3], action[:, None].expand(b, v, 2))
    assert actions[:, 0::3].abs().sum() == 0 and actions[:, 1::3].abs().sum() == 0
    assert torch.equal(last_frames(x, v), slot)


@torch.no_grad()
def test_widened_base_computes_the_base_function(tmp_path: Path):
    """Loaded into the multi-view net, a base DiT's weights give exactly the base output on the same
    folded views: the view channels enter through zero columns and the action embedding starts at 0."""
    c, e, v = 4, 3, 3
    base_cfg = DiTConfig(in_channels=c, **TINY)
    base = helpers.randomized(DiT(base_cfg)).eval()
    helpers.write_run(tmp_path / "base", "base_video_dit", {"model": to_dict(base_cfg)}, base)
    net = tiny_net(c, e, v)
    helpers.randomized(net.view_embed, seed=5, scale=1.0)
    widen_base_into(net, str(tmp_path / "base"))
    context, slot = torch.randn(2, c, 1, 4, v * 4), torch.randn(2, c, 4, v * 4)
    x, mask, actions = multiview_inputs(context, torch.randn(2, 2), slot, v)
    c_noise = torch.full((2,), 0.2)
    assert torch.allclose(net.eval()(x, c_noise, actions, mask), base(x, c_noise, cond_mask=mask, views=v), atol=1e-5)
    # after training moves the view columns, the views are told apart and the function differs
    weight = net.dit.x_embedder.proj.weight.view(32, c + e + 1, 4)   # (hidden, channels, patch)
    weight[:, c:c + e] = 0.1 * torch.randn(32, e, 4, generator=torch.Generator().manual_seed(2))
    assert not torch.allclose(net(x, c_noise, actions, mask), base(x, c_noise, cond_mask=mask, views=v), atol=1e-3)


def test_base_of_other_latent_channels_is_a_clear_error(tmp_path: Path):
    base_cfg = DiTConfig(in_channels=16, **TINY)
    helpers.write_run(tmp_path / "base", "base_video_dit", {"model": to_dict(base_cfg)}, DiT(base_cfg))
    with pytest.raises(ValueError, match="latent channels"):
        widen_base_into(tiny_net(c=4), str(tmp_path / "base"))


def test_in_channels_must_include_the_view_channels():
    with pytest.raises(ValueError, match="latent_channels \\+ views.channels"):
        MultiViewDiT(MultiViewDiTConfig(dit=DiTConfig(in_channels=4, **TINY), latent_channels=4,
                                        views=ViewEmbedConfig(num_views=2, channels=3)))


@torch.no_grad()
def test_actions_reach_only_the_generated_frames():
    net = helpers.randomized(tiny_net()).eval()
    context, slot = torch.randn(1, 4, 1, 4, 12), torch.randn(1, 4, 4, 12)
    c_noise = torch.zeros(1)
    outs = []
    for a in ([0.0, 0.0], [1.0, -1.0]):
        x, mask, actions = multiview_inputs(context, torch.tensor([a]), slot, 3)
        outs.append(net(x, c_noise, actions, mask))
    assert not torch.allclose(last_frames(outs[0], 3), last_frames(outs[1], 3), atol=1e-4)


# ------------------------------------------------------------ the task on real driving renders


@pytest.fixture(scope="module")
def drive_data(tmp_path_factory) -> str:
    from worldsim.cli import main

    out = tmp_path_factory.mktemp("drive") / "data"
    argv = ["generate", "--env", "worldsim/DrivingMultiView-v0", "--episodes", "3", "--out", str(out),
            "--policy", "random", "image_size=16", f"cameras=[{','.join(CAMERAS)}]", "depth=false",
            "segmentation=false", "camera_params=true", "workers=1", "max_steps=6"]
    assert main(argv) == 0
    return str(out)


def train(data: str, out: Path, predictor: str, steps: int = 3) -> Path:
    from worldsim.training.stages import posttrain_stage

    overrides = [f"steps={steps}", "batch_size=2", f"ckpt_every={steps}", "progress=false", "warmup_steps=1",
                 f"predictor={predictor}", "held_out=0.34", "eval_windows=2", "sample_steps=2",
                 *(f"model.{k}={v}" for k, v in TINY.items())]
    return posttrain_stage("multiview", "", data, str(out), overrides=overrides)


def test_posttrain_multiview_trains_and_reloads(drive_data, tmp_path):
    """`worldsim posttrain multiview` from scratch: the checkpoint rebuilds the model, records the
    rig (camera poses) and the simulator, and sampling gives each env the frames it gets alone."""
    from posttrain.multiview.checkpoint import load_multiview
    from posttrain.multiview.config import predict_config
    from posttrain.multiview.predict import predict_next_views
    from worldsim import io as wio

    run = train(drive_data, tmp_path / "mv", "diffusion")
    meta = wio.read_meta(run)
    assert meta["architecture"] == "multiview_world_model"
    assert all(torch.isfinite(torch.tensor(v)) for k, v in meta["metrics"].items() if k.startswith("train/"))
    model, cfg = load_multiview(str(tmp_path / "mv"))
    assert sorted(cfg.cameras) == sorted(CAMERAS) and model.dynamics.num_views == 6
    assert set(cfg.rig) == set(CAMERAS) and cfg.sim["env_id"] == "worldsim/DrivingMultiView-v0"
    c = cfg.model.in_channels - cfg.view_channels
    assert c == 48   # pixels:4 -> 3 * 4 * 4
    context, action = torch.randn(2, c, cfg.context_frames, 4, 6 * 4), torch.rand(2, 2) * 2 - 1
    gens = lambda: [torch.Generator().manual_seed(s) for s in (7, 8)]  # noqa: E731
    both = predict_next_views(model.dynamics, context, action, predict_config(cfg), gens())
    alone = predict_next_views(model.dynamics, context[1:], action[1:], predict_config(cfg), gens()[1:])
    assert both.shape == (2, c, 4, 24) and torch.allclose(both[1:], alone, atol=1e-5)


def test_deterministic_predictor_starts_as_nothing_moves(drive_data, tmp_path):
    """The DiT's final layer starts at zero, so the untrained deterministic predictor returns every
    view's last frame exactly; training it lowers its loss on a fixed batch."""
    from posttrain.multiview.config import MultiViewTaskConfig, predict_config
    from posttrain.multiview.predict import predict_next_views
    from posttrain.multiview.task import MultiViewTask

    task = MultiViewTask(MultiViewTaskConfig(data=drive_data, predictor="deterministic", model=DiTConfig(**TINY)))
    model = task.build_model()
    batch = next(task.make_loader(4, 0, 1, seed=0))
    pred = predict_next_views(model.dynamics, batch["context"], batch["action"], predict_config(task.cfg))
    assert torch.equal(pred, batch["context"][:, :, -1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = task.loss(model, batch)[1]["dynamics_loss"]
    for _ in range(15):
        loss = task.loss(model, batch)[0]
        opt.zero_grad(), loss.backward(), opt.step()
    assert task.loss(model, batch)[1]["dynamics_loss"] < 0.7 * first


def test_task_from_a_base_takes_its_sizes_and_weights(drive_data, tmp_path):
    """A base DiT on the same codec's latents (pixels:4: 48 channels) gives the task its DiT sizes
    and its weights; the base's tokenizer is used when none is named."""
    from posttrain.multiview.config import MultiViewTaskConfig
    from posttrain.multiview.task import MultiViewTask

    base_cfg = DiTConfig(in_channels=48, **{**TINY, "hidden_size": 24, "num_heads": 2})
    base = helpers.randomized(DiT(base_cfg))
    helpers.write_run(tmp_path / "base", "base_video_dit",
                      {"model": to_dict(base_cfg), "tokenizer": "pixels:4", "camera": "front"}, base)
    task = MultiViewTask(MultiViewTaskConfig(data=drive_data, base=str(tmp_path / "base"), view_channels=5))
    assert task.cfg.tokenizer == "pixels:4" and task.cfg.model.hidden_size == 24
    assert task.cfg.model.in_channels == 48 + 5
    net = task.build_model().dynamics
    mine, theirs = ckpt_state(net.dit), ckpt_state(base)
    widened = {"x_embedder.proj.weight", "final_layer.linear.weight"}
    assert all(torch.equal(mine[k], v) for k, v in theirs.items() if k not in widened)
    w_mine, w_base = mine["x_embedder.proj.weight"].view(24, 54, 4), theirs["x_embedder.proj.weight"].view(24, 49, 4)
    assert torch.equal(w_mine[:, :48], w_base[:, :48]) and torch.equal(w_mine[:, 53], w_base[:, 48])
    assert w_mine[:, 48:53].abs().sum() == 0                      # the view channels enter through zeros


def ckpt_state(module):
    from worldsim.io import tensor_state

    return tensor_state(module)


def test_state_head_integrates_predicted_change():
    """Next state = current + de-normalised predicted change (the ego dynamics are integrated)."""
    from posttrain.multiview.model import StateDeltaHead, StateDeltaHeadConfig

    head = StateDeltaHead(StateDeltaHeadConfig(latent_channels=2, latent_hw=(2, 6), state_dim=3, action_dim=2))
    torch.nn.init.zeros_(head.mlp_2.weight), torch.nn.init.zeros_(head.mlp_2.bias)
    head.set_normalization(torch.zeros(3), torch.ones(3), torch.tensor([1.0, -2.0, 0.5]), torch.ones(3))
    z = torch.randn(4, 2, 2, 6)
    state = torch.randn(4, 3)
    assert torch.allclose(head(z, z, state, torch.zeros(4, 2)), state + torch.tensor([1.0, -2.0, 0.5]))
