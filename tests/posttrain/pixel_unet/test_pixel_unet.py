"""The pixel world-model family (posttrain.pixel_unet): predictors, training pieces, data windows, reader.

Training itself stays out: the overfit test trains a tiny network for a few seconds.
"""

import numpy as np
import pytest
import torch

from posttrain.pixel_unet.config import PixelTrainConfig
from posttrain.pixel_unet.data import Episodes, check_context, sample_windows
from posttrain.pixel_unet.predictors import make_predictor
from posttrain.pixel_unet.train import noisy_context, train_step
from tests.posttrain.pixel_unet.pixel_fixtures import TINY_NET, edm, psnr, rollout_episodes


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def episodes():
    return rollout_episodes(count=2, steps=30)


@pytest.mark.parametrize("kind", ["deterministic", "diffusion"])
def test_both_predictors_overfit_a_tiny_dataset(episodes, kind):
    """One-step PSNR on the training windows rises above copying the last frame (pusher motion learned)."""
    torch.manual_seed(0)
    win = sample_windows(episodes, 16, 4, 1, np.random.default_rng(0))
    cfg = PixelTrainConfig(data="-", out="-", predictor=kind, net=TINY_NET, context_noise_max=0.0)
    model = make_predictor(kind, TINY_NET, edm())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        loss = train_step(model, win, cfg, 1, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = model.predict(win.frames[:, :4], win.actions[:, :4], [torch.Generator().manual_seed(i) for i in range(16)])
    copy = psnr(win.frames[:, 3], win.frames[:, 4])
    assert psnr(pred, win.frames[:, 4]) > copy + 2.0


def test_a_layout_conditioned_predictor_overfits_a_tiny_dataset(episodes):
    """With layout maps of the next state (grounded model), the deterministic predictor also learns
    the next frame beyond copying the last one."""
    import dataclasses

    from posttrain.pixel_unet.layout import Layout, LayoutConfig
    from posttrain.pixel_unet.untrained import linear_reader

    torch.manual_seed(0)
    net = dataclasses.replace(TINY_NET, layout=2)
    win = sample_windows(episodes, 16, 4, 1, np.random.default_rng(0))
    layout = Layout(LayoutConfig(), linear_reader())
    cfg = PixelTrainConfig(data="-", out="-", net=net, context_noise_max=0.0)
    model = make_predictor("deterministic", net, edm())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        loss = train_step(model, win, cfg, 1, gen, layout)
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = model.predict(win.frames[:, :4], win.actions[:, :4], layout=layout(win.sim_states[:, 4]))
    assert psnr(pred, win.frames[:, 4]) > psnr(win.frames[:, 3], win.frames[:, 4]) + 2.0
    with pytest.raises(ValueError, match="layout maps"):
        model.predict(win.frames[:, :4], win.actions[:, :4])


def test_context_noise_is_applied_in_training_only():
    torch.manual_seed(0)
    context = torch.zeros(64, 4, 3, 16, 16)
    noisy, sigma = noisy_context(context, 0.2, torch.Generator().manual_seed(0))
    assert (sigma == 0).any() and (sigma > 0).any() and sigma.max() <= 0.2
    spread = noisy.flatten(1).std(dim=1)
    assert torch.all(spread[sigma == 0] == 0) and torch.all(spread[sigma > 0.05] > 0)
    model = make_predictor("deterministic", TINY_NET, edm())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    ctx, actions = torch.rand(2, 4, 3, 64, 64) * 2 - 1, torch.rand(2, 4, 2)
    at_inference = model.predict(ctx, actions)
    torch.testing.assert_close(at_inference, model(ctx, actions, torch.zeros(2)).clamp(-1, 1))
    assert not torch.allclose(at_inference, model(ctx, actions, torch.full((2,), 0.2)).clamp(-1, 1))


def test_windows_at_an_episode_start_look_like_a_reset():
    """Before the first frame a window repeats it with zero actions, as a world-model env's
    context does right after reset; the last context action is the one that leads to the target."""
    frames = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 2, 2).contiguous()
    actions = torch.arange(1, 11, dtype=torch.float32).view(10, 1).expand(10, 2).contiguous()
    eps = Episodes(frames, actions, torch.zeros(10, 6), np.array([0]), np.array([10]), ["x"])
    for seed in range(20):
        win = sample_windows(eps, 1, 4, 1, np.random.default_rng(seed))
        t = int(round((win.frames[0, 4, 0, 0, 0].item() + 1) * 127.5))  # the target's frame index
        want_ctx = [max(0, i) for i in range(t - 4, t)]
        got_ctx = [int(round((v + 1) * 127.5)) for v in win.frames[0, :4, 0, 0, 0].tolist()]
        assert got_ctx == want_ctx
        want_actions = [float(i + 1) if i >= 0 else 0.0 for i in range(t - 4, t)]
        assert win.actions[0, :, 0].tolist() == want_actions
        assert int(round((win.anchor[0, 0, 0, 0].item() + 1) * 127.5)) == 0   # the episode's first frame


def test_context_longer_than_every_episode_is_refused(episodes):
    with pytest.raises(ValueError, match="net.context=40"):
        check_context(episodes, 40, 1)
    with pytest.raises(ValueError, match="rollout_k"):
        check_context(episodes, 4, 30)
    with pytest.raises(ValueError, match="predictor='magic'"):
        PixelTrainConfig(data="d", out="o", predictor="magic").validate()


def test_dataset_without_the_needed_keys_is_refused(tmp_path):
    from posttrain.pixel_unet.data import load_episodes
    from worldsim.data.lerobot_writer import LeRobotWriter, WriterConfig

    features = {"observation.state": {"dtype": "float32", "shape": [2], "names": None}}
    writer = LeRobotWriter(tmp_path / "ds", WriterConfig(fps=10, robot_type="x", features=features))
    writer.add_episode({"observation.state": np.zeros((3, 2), np.float32)}, task="t")
    writer.finalize()
    with pytest.raises(ValueError, match="action"):
        load_episodes(str(tmp_path / "ds"), "top", progress=False)


def place(env, pusher, block, goal, yaw=0.3):
    """Put the objects of a reset TabletopPush env where the test says, and render the top camera."""
    from envs.render.gl import mujoco

    u = env.unwrapped
    q = u.data.qpos
    q[u._qadr["pusher_x"]], q[u._qadr["pusher_y"]] = np.asarray(pusher) - u.model.body("pusher").pos[:2]
    q[u._qadr["block_x"]], q[u._qadr["block_y"]] = np.asarray(block) - u.model.body("block").pos[:2]
    q[u._qadr["block_yaw"]] = yaw
    u.model.body_pos[u._goal_body, :2] = goal
    mujoco.mj_forward(u.model, u.data)
    return u.render_source.render_rgb()["top"]


def test_the_shipped_reader_finds_objects_placed_by_hand():
    """Objects put at chosen table positions are read back within 0.5 cm (a pixel is about 1.2 cm)."""
    import gymnasium as gym

    import envs  # noqa: F401
    from assets import asset_path
    from envs.world_model.session import load_for_env
    from posttrain.pixel_unet.frames import to_float

    wm = load_for_env(str(asset_path("world_models/tabletop_push")))
    env = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=64)
    env.reset(seed=0)
    layouts = [((-0.2, -0.15), (0.05, 0.1), (0.15, -0.12)), ((0.18, 0.2), (-0.1, -0.05), (-0.17, 0.16)),
               ((0.0, 0.0), (0.12, -0.14), (-0.05, 0.18)), ((-0.22, 0.21), (0.16, 0.15), (0.0, -0.18))]
    for layout in layouts:
        frame = place(env, *layout)
        with torch.no_grad():
            read = wm.reader(to_float(frame[None]))[0].numpy()  # (3 objects, 2) metres
        np.testing.assert_allclose(read, np.asarray(layout), atol=0.005)
    env.close()


def test_joint_view_attention_mixes_the_views_of_one_rig_only():
    """With ``views=3`` a view's output depends on the other views of its rig (once the attention's
    output projection is non-zero) and not on another rig's; with one view per item nothing mixes."""
    from posttrain.pixel_unet.config import UNetConfig
    from posttrain.pixel_unet.network import UNet

    torch.manual_seed(0)
    cfg = dict(context=1, action_dim=2, patch=2, channels=[8, 16], cond_dim=8, groups=4, image_size=8)
    joint, alone = UNet(UNetConfig(views=3, **cfg)), UNet(UNetConfig(**cfg))
    for net in (joint, alone):
        torch.nn.init.normal_(net.head.weight, std=0.1)
    torch.nn.init.normal_(joint.view_attention.attn.out_proj.weight, std=0.1)
    x, a = torch.randn(6, 1, 3, 8, 8), torch.randn(6, 1, 2)        # two rigs of three views
    y = x.clone()
    y[2] += 1.0                                                      # the first rig's third view changes
    for net, mixes in ((joint, True), (alone, False)):
        out, moved = net(x, a, torch.zeros(6)), net(y, a, torch.zeros(6))
        assert (out[0] - moved[0]).abs().max().item() > 1e-4 if mixes else torch.equal(out[0], moved[0])
        assert torch.equal(out[3:], moved[3:])                       # the other rig is untouched
    with pytest.raises(ValueError, match="rigs of 3 views"):
        joint(x[:4], a[:4], torch.zeros(4))
