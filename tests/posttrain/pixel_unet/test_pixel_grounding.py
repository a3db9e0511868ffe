"""The grounded pixel world model's parts: state dynamics, yaw reader, layout maps, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posttrain.pixel_unet.dynamics import DynamicsConfig, StateDynamics
from posttrain.pixel_unet.dynamics_train import DynamicsTrainConfig, Transitions, rollout_loss, sample

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def physics_episodes(specs=("play", "expert", "random"), per_spec=4, steps=40) -> Transitions:
    """Episodes of the real simulator (no rendering), their whole physical state recorded."""
    import gymnasium as gym

    import envs  # noqa: F401
    from policies import make_policy

    states, actions, lengths = [], [], []
    env = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=32, terminate_on_success=False)
    for s, spec in enumerate(specs):
        policy = make_policy(spec, "worldsim/TabletopPush-v0", env.action_space)
        for i in range(per_spec):
            obs, _ = env.reset(seed=100 * s + i, options={"render": False})
            policy.reset(1, seed=100 * s + i)
            for _ in range(steps):
                states.append(env.unwrapped.sim_state())
                a = policy.act({k: v[None] for k, v in obs.items() if k != "pixels"})[0].astype(np.float32)
                actions.append(a)
                obs, *_ = env.step(a)
            lengths.append(steps)
    lengths = np.asarray(lengths)
    return Transitions(np.stack(states), np.stack(actions), np.r_[0, np.cumsum(lengths)[:-1]], lengths)


@pytest.mark.parametrize("frame", ["world", "canonical"])
def test_dynamics_learn_the_simulator_better_than_standing_still(frame):
    """A small dynamics model trained briefly on real episodes predicts the next state (and an
    8-step rollout) far better than assuming nothing moves."""
    data = physics_episodes()
    cfg = DynamicsTrainConfig(net=DynamicsConfig(width=64, layers=2, frame=frame))
    torch.manual_seed(0)
    model = StateDynamics(cfg.net)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    eps = np.arange(len(data.lengths))
    for step in range(400):
        loss = rollout_loss(model, *sample(data, eps, 64, 1, 1 if step < 200 else 4, rng), 0.0, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    states, actions, valid = sample(data, eps, 256, 1, 8, np.random.default_rng(1))
    with torch.no_grad():
        pred, ctx = [], states[:, :1]
        for j in range(8):
            ctx = model(ctx, actions[:, j:j + 1])[:, None]
            pred.append(ctx[:, 0])
    pred = torch.stack(pred, 1)
    block_err = (pred[..., :4] - states[:, 1:, :4]).norm(dim=-1)[valid].mean()
    still_err = (states[:, :1, :4] - states[:, 1:, :4]).norm(dim=-1)[valid].mean()
    assert block_err < 0.3 * still_err, (block_err, still_err)


def _turn(states: torch.Tensor, angle: float, mirror: bool = False) -> torch.Tensor:
    """The whole scene turned about the origin by ``angle`` (after mirroring y when ``mirror``)."""
    x = states.clone()
    if mirror:
        x[..., [1, 3, 6, 8]] *= -1
        x[..., [4, 9]] *= -1
    c, s = np.cos(angle), np.sin(angle)
    for i in (0, 2, 5, 7):
        vx, vy = x[..., i].clone(), x[..., i + 1].clone()
        x[..., i], x[..., i + 1] = c * vx - s * vy, s * vx + c * vy
    x[..., 4] += angle
    return x


def test_canonical_dynamics_respect_the_scenes_symmetries():
    """Physics does not change when the whole table turns, when the square block is turned by a
    quarter (the same square), or in a mirror; the canonical-frame network (any weights) must
    predict the same motion, turned, mirrored or unchanged, to float precision."""
    torch.manual_seed(0)
    model = StateDynamics(DynamicsConfig(width=32, layers=2, frame="canonical"))
    torch.nn.init.normal_(model.linear.weight, std=0.3)
    states = torch.randn(64, 1, 10) * torch.tensor([.05, .05, .05, .05, 2, .2, .2, .2, .2, 1])
    actions = torch.rand(64, 1, 2) * 2 - 1
    now = model(states, actions)
    for angle in (0.4, np.pi / 2, 2.5):
        act = _turn(torch.cat([actions, torch.zeros(64, 1, 8)], -1), angle)[..., :2]
        turned = model(_turn(states, angle), act)
        assert torch.allclose(turned, _turn(now, angle), atol=1e-5)
    quarter = states.clone()
    quarter[..., 4] += np.pi / 2
    assert torch.allclose(model(quarter, actions)[:, 4] - np.pi / 2, now[:, 4], atol=1e-5)
    assert torch.allclose(model(quarter, actions)[:, [0, 1, 2, 3, 5, 6, 7, 8, 9]], now[:, [0, 1, 2, 3, 5, 6, 7, 8, 9]],
                          atol=1e-5)
    mirrored = model(_turn(states, 0.0, mirror=True), actions * torch.tensor([1.0, -1.0]))
    assert torch.allclose(mirrored, _turn(now, 0.0, mirror=True), atol=1e-5)


def test_symmetry_frame_puts_the_pusher_in_one_eighth_of_the_plane():
    from posttrain.pixel_unet.symmetry_frame import SymmetryFrame

    offset = torch.randn(500, 2)
    yaw = torch.rand(500) * 12 - 6
    frame = SymmetryFrame.of(offset, yaw)
    local = frame.vectors_in(offset)
    assert bool((local[:, 1] >= -1e-6).all()) and bool((local[:, 1] <= local[:, 0] + 1e-6).all())
    assert torch.allclose(frame.vectors_out(local), offset, atol=1e-5)


def test_pusher_is_held_inside_its_travel_limit():
    model = StateDynamics(DynamicsConfig(width=16, layers=1, pusher_limit=0.28))
    for p in model.mlp[-1].parameters():
        torch.nn.init.zeros_(p)
    torch.nn.init.constant_(model.linear.bias, 1.0)   # every change large and positive
    state = torch.zeros(1, 1, 10)
    state[0, 0, :2] = torch.tensor([0.279, -0.1])
    nxt = model(state, torch.ones(1, 1, 2))
    assert float(nxt[0, 0]) == pytest.approx(0.28) and float(nxt[0, 5]) == 0.0   # stopped at the end
    assert float(nxt[0, 1]) < 0.28 and float(nxt[0, 6]) > 0                     # the other axis moves on
    with pytest.raises(ValueError, match="net.frame='polar'"):
        StateDynamics(DynamicsConfig(frame="polar"))


def test_windows_pad_an_episode_start_like_a_reset_and_mask_its_end():
    data = physics_episodes(("random",), per_spec=2, steps=5)
    states, actions, valid = sample(data, np.arange(2), 200, 3, 4, np.random.default_rng(0))
    # context starting before the episode repeats its first state with zero actions
    first = torch.from_numpy(data.states[data.starts])
    padded = (states[:, 0] == states[:, 1]).all(dim=1)
    assert padded.any()
    assert bool((actions[padded, 0] == 0).all())
    assert any(bool((states[i, 0] == first).all(dim=1).any()) for i in np.flatnonzero(padded.numpy()))
    # a target past the episode's last state is masked out: at most length - 1 valid targets per window
    assert int(valid.sum(dim=1).max()) <= 4 and not bool(valid.all())


def test_dynamics_reject_a_wrong_state_shape():
    model = StateDynamics(DynamicsConfig(width=16, layers=1))
    with pytest.raises(ValueError, match=r"states \(B, 1, 10\)"):
        model(torch.zeros(2, 1, 4), torch.zeros(2, 1, 2))


def test_dataset_without_sim_state_is_refused_by_dynamics_training(tmp_path):
    from posttrain.pixel_unet.dynamics_train import load_transitions
    from worldsim.cli import main

    out = tmp_path / "plain"
    assert main(["generate", "--env", "worldsim/TabletopPush-v0", "--policy", "random", "--episodes", "1",
                 "--out", str(out), "image_size=32", "cameras=[top]", "depth=false", "segmentation=false",
                 "camera_params=false", "max_steps=3"]) == 0
    with pytest.raises(ValueError, match="no observation.sim_state.*sim_state=true"):
        load_transitions(str(out))


def test_layout_config_is_checked():
    from posttrain.pixel_unet.config import PixelTrainConfig, UNetConfig

    with pytest.raises(ValueError, match="needs readers=FOLDER"):
        PixelTrainConfig(data="d", out="o", net=UNetConfig(layout=2)).validate()
    with pytest.raises(ValueError, match="net.layout=3"):
        PixelTrainConfig(data="d", out="o", net=UNetConfig(layout=3), readers="r").validate()


# -- the shipped (grounded) default model ------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    from assets import asset_path
    from envs.world_model.session import load_for_env

    wm = load_for_env(str(asset_path("world_models/tabletop_push")))
    assert wm.grounding is not None, "the default TabletopPush world model is grounded"
    return wm


def test_the_shipped_yaw_reader_reads_a_block_turned_by_hand(shipped):
    """Yaws set in the simulator are read back within 6 degrees (modulo the square's 90)."""
    import gymnasium as gym

    import envs  # noqa: F401
    from posttrain.pixel_unet.frames import to_float
    from posttrain.pixel_unet.yaw_reader import yaw_error_deg
    from tests.posttrain.pixel_unet.test_pixel_unet import place

    env = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=64)
    env.reset(seed=0)
    yaws = [-0.7, -0.35, 0.0, 0.2, 0.5, 0.75]
    frames = torch.cat([to_float(place(env, (-0.2, -0.15), (0.05 * i - 0.1, 0.1 - 0.04 * i), (0.15, -0.12),
                                       yaw)[None]) for i, yaw in enumerate(yaws)])
    env.close()
    with torch.no_grad():
        uv = shipped.reader.centroids(frames)[0][:, shipped.grounding.block]
        read = shipped.grounding.yaw_reader(frames, uv)
    assert float(yaw_error_deg(read, torch.tensor(yaws)).max()) < 6.0


def test_layout_of_the_true_state_covers_what_the_camera_sees(shipped):
    """The layout maps drawn from the simulator's state overlap its segmentation of pusher and block."""
    import gymnasium as gym

    import envs  # noqa: F401

    env = gym.make("worldsim/TabletopPush-v0", cameras=("top",), image_size=64)
    ious = {"pusher": [], "block": []}
    u = env.unwrapped
    for seed in range(6):
        env.reset(seed=seed)
        seg = u.capture(("rgb", "segmentation"))["top"].segmentation
        labels = u.render_source.labels
        maps = shipped.grounding.layout(torch.from_numpy(u.sim_state())[None])[0] > 0.5
        for i, name in enumerate(("pusher", "block")):
            ids = [int(k) for k, v in labels.items() if v == name]
            seen = torch.from_numpy(np.isin(seg, ids))
            ious[name].append(float((maps[i] & seen).sum() / (maps[i] | seen).sum()))
    env.close()
    assert np.mean(ious["pusher"]) > 0.6 and np.mean(ious["block"]) > 0.6, ious


@pytest.mark.parametrize("folder", ["world_models/tabletop_push", "world_models/tabletop_push_cosmos"])
def test_grounded_frames_show_the_state_the_policy_gets(shipped, folder):
    """Over an expert rollout in a shipped grounded world model (the U-Net default, and the
    Cosmos-style one: tokenizer + megatron-core DiT), the positions read from its own frames stay
    within a centimetre of the state it hands the policy."""
    import gymnasium as gym

    import envs  # noqa: F401
    from assets import asset_path
    from policies import make_policy
    from posttrain.pixel_unet.frames import to_float

    n = 8
    env = gym.make_vec("worldsim/WorldModel-v0", num_envs=n, vectorization_mode="vector_entry_point",
                       checkpoint=str(asset_path(folder)))
    policy = make_policy("expert", "worldsim/TabletopPush-v0", env.single_action_space)
    obs, _ = env.reset(seed=list(range(300, 300 + n)))
    gaps = []
    for _ in range(25):
        obs, *_ = env.step(policy.act(obs))
        with torch.no_grad():
            read = shipped.reader(to_float(obs["pixels"]["top"])).numpy()
        gaps.append(np.linalg.norm(read[:, 1] - obs["environment_state"][:, :2], axis=1))
        gaps.append(np.linalg.norm(read[:, 0] - obs["agent_pos"], axis=1))
    env.close()
    assert np.mean(gaps) < 0.01, np.mean(gaps)


def test_pixels_far_from_every_object_keep_their_last_value(shipped):
    """Only pixels near where an object is or will be may change in a step."""
    g = shipped.grounding
    before = torch.tensor([[-0.2, -0.2, 0.1, 0.1, 0.3] + [0.0] * 5])
    after = torch.tensor([[-0.15, -0.2, 0.1, 0.1, 0.3] + [0.0] * 5])
    last, new = torch.zeros(1, 3, 64, 64), torch.ones(1, 3, 64, 64)
    out = g.keep_static(last, new, before, g.layout(after))
    changed = out[0, 0] > 0
    near = (torch.maximum(g.layout(before), g.layout(after))[0] > 0.05).any(dim=0)
    assert bool(changed[near].all())                        # every object pixel is the new frame's
    assert 0 < int(changed.sum()) < 0.1 * 64 * 64            # and little else: the rest is the last frame
    far = torch.nn.functional.max_pool2d(near[None, None].float(), 2 * g.margin + 3, 1, g.margin + 1)[0, 0] == 0
    assert not bool(changed[far].any())


def test_a_grounded_model_without_frames_steps_the_same_state(shipped):
    """reset(options={"render": False}) skips the frames (zeros) and changes no state, reward or success."""
    import gymnasium as gym

    import envs  # noqa: F401
    from policies import make_policy

    runs = {}
    for render in (True, False):
        env = gym.make_vec("worldsim/WorldModel-v0", num_envs=4, vectorization_mode="vector_entry_point")
        policy = make_policy("expert+noise:0.5", "worldsim/TabletopPush-v0", env.single_action_space)
        policy.reset(4, 7)
        obs, _ = env.reset(seed=40, options={"render": render})
        trace = []
        for _ in range(15):
            obs, reward, term, trunc, _ = env.step(policy.act(obs))
            trace.append((obs["agent_pos"].copy(), obs["environment_state"].copy(), reward, term))
        runs[render] = (trace, obs["pixels"]["top"])
        env.close()
    for on, off in zip(runs[True][0], runs[False][0]):
        for a, b in zip(on, off):
            np.testing.assert_array_equal(a, b)
    assert runs[True][1].max() > 0 and runs[False][1].max() == 0


def test_the_render_option_is_checked_and_ignored_where_frames_carry_the_state():
    from envs.world_model.session import render_option

    class FramesOnly:
        render_switch = False

    assert render_option({"render": False}, FramesOnly()) is True
    assert render_option(None, FramesOnly()) is True
    with pytest.raises(ValueError, match="options\\['render'\\]='no'"):
        render_option({"render": "no"}, FramesOnly())
