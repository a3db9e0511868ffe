"""The Sawyer state dynamics: exact parts, overfitting a tiny Meta-World dataset, resuming, loading."""

import numpy as np
import pytest
import torch

from posttrain.sawyer.config import GOAL, MOCAP, OBJ, OBJ_QUAT, STATE_DIM, SawyerDynamicsConfig, SawyerTrainConfig
from posttrain.sawyer.dynamics import SawyerDynamics
from posttrain.sawyer.dynamics_train import (data_stats, load_dynamics, load_transitions, rollout_loss, split,
                                             train)
from posttrain.pixel_unet.dynamics_train import sample

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from worldsim.cli import main

    out = tmp_path_factory.mktemp("mw") / "data"
    assert main(["generate", "--env", "worldsim/MetaWorld-v0", "--policy", "play,expert+noise:0.3", "--episodes",
                 "3", "--out", str(out), "task=push-v3", "max_steps=40", "workers=1", "sim_state=true",
                 "render=false"]) == 0
    return str(out)


def test_goal_and_mocap_follow_exactly_and_the_quaternion_stays_unit():
    torch.manual_seed(0)
    model = SawyerDynamics(SawyerDynamicsConfig(context=2))
    states = torch.randn(5, 2, STATE_DIM) * 0.1
    states[:, :, MOCAP] = torch.tensor([0.0, 0.6, 0.2])
    actions = torch.rand(5, 2, 4) * 2 - 1
    nxt = model(states, actions)
    torch.testing.assert_close(nxt[:, GOAL], states[:, -1, GOAL])
    torch.testing.assert_close(nxt[:, MOCAP], states[:, -1, MOCAP] + 0.01 * actions[:, -1, :3])
    torch.testing.assert_close(nxt[:, OBJ_QUAT].norm(dim=1), torch.ones(5))
    with pytest.raises(ValueError, match="dynamics take states"):
        model(states[:, :1], actions[:, :1])


def test_dynamics_overfit_a_tiny_dataset_and_resume(dataset, tmp_path):
    data = load_transitions(dataset)
    assert data.states.shape[1] == STATE_DIM and len(data.lengths) == 3
    train_eps, held = split(data, 1)
    assert list(held) == [2]
    cfg = SawyerTrainConfig(data=dataset, out=str(tmp_path / "run"), steps=150, batch_size=64, lr=3e-3,
                            rollout_k=2, holdout_episodes=1, ckpt_every=75,
                            net=SawyerDynamicsConfig(context=2, width=64, layers=2))
    model = SawyerDynamics(cfg.net, data_stats(data, train_eps))

    def loss_of(m):
        rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(1)
        batch = sample(data, train_eps, 256, cfg.net.context, 1, rng)
        with torch.no_grad():
            return float(rollout_loss(m, *batch, 0.0, gen, cfg.loss_scale))

    before = loss_of(model)
    train(cfg)
    trained, loaded_cfg = load_dynamics(cfg.out)
    assert loaded_cfg.net.width == 64
    after = loss_of(trained)
    assert after < before / 2.5, (before, after)       # (the goal and mocap are exact from the start)
    torch.testing.assert_close(trained.delta_std, model.delta_std)     # the data's statistics travel with it
    cfg.steps = 160                                                    # resume: 10 more steps from the checkpoint
    train(cfg)
    assert len((tmp_path / "run" / "loss.log").read_text().splitlines()) == 160


def test_pad_offsets_put_the_pads_where_mujoco_has_them():
    """The pads' positions the dynamics read from the hand and finger joints match the simulator's
    ``rightpad`` / ``leftpad`` bodies while the arm moves and the gripper opens and closes: along y,
    the fingers' axis, within 1 mm; x and z (taken as the hand's: the hand tilts a little as it
    moves) within 5 mm."""
    from envs.metaworld_env import MetaWorldEnv
    from posttrain.sawyer.dynamics import pad_offsets

    env = MetaWorldEnv(task="push-v3", render_mode=None, image_size=16, cameras=("corner2",))
    env.reset(seed=3, options={"render": False})
    cfg = SawyerDynamicsConfig(pad_features=True)
    data = env._mw.data
    for t in range(40):
        grip = 1.0 if (t // 10) % 2 == 0 else -1.0
        env.step(np.array([0.3, -0.2, -0.5, grip], np.float32))
        now = torch.from_numpy(env.sim_state()[None])
        right, _, left, _ = pad_offsets(now, cfg)
        obj = now[0, OBJ].numpy()
        for rel, body in ((right, "rightpad"), (left, "leftpad")):
            pad, truth = rel[0].numpy() * 0.02 + obj, data.body(body).xpos
            assert abs(pad[1] - truth[1]) < 1e-3, (t, body, pad, truth)
            np.testing.assert_allclose(pad, truth, atol=5e-3)
    env.close()


def test_contact_sampler_starts_its_share_of_windows_where_the_hand_is_held_back(dataset):
    """With ``contact_fraction`` the windows' last context state is, that often, one where the mocap
    target is ahead of a hand that barely moves; a bad share is refused."""
    from posttrain.sawyer.config import HAND, HAND_VEL
    from posttrain.sawyer.dynamics_train import contact_sampler

    data = load_transitions(dataset)
    eps = np.arange(len(data.lengths))
    cfg = SawyerTrainConfig(data=dataset, out="x", contact_fraction=0.9, contact_lead=0.005, contact_speed=0.2)
    draw = contact_sampler(data, eps, cfg)
    states, _, _ = draw(data, eps, 400, 2, 3, np.random.default_rng(0))
    last = states[:, 1].numpy()
    held = (np.linalg.norm(last[:, MOCAP] - last[:, HAND], axis=1) > 0.005) & \
        (np.linalg.norm(last[:, HAND_VEL], axis=1) < 0.2)
    free = (np.linalg.norm(data.states[:, MOCAP] - data.states[:, HAND], axis=1) > 0.005) & \
        (np.linalg.norm(data.states[:, HAND_VEL], axis=1) < 0.2)
    assert held.mean() >= 0.85 > free.mean()
    with pytest.raises(ValueError, match="contact_fraction"):
        SawyerTrainConfig(data="d", out="o", contact_fraction=1.0).validate()


def test_held_weight_makes_the_hands_errors_count_finer_only_where_the_target_is_held_back():
    """With ``held_weight`` w, a held-back target's hand position and velocity errors are measured in
    units w times finer (their squared error counts w**2 times); targets that are not held back, and
    every other variable, count as before; a factor below 1 is refused."""
    from posttrain.sawyer.config import HAND, HAND_VEL

    torch.manual_seed(0)
    model = SawyerDynamics(SawyerDynamicsConfig(context=2, width=32, layers=1))
    states = torch.randn(8, 3, STATE_DIM) * 0.05
    states[:, :, HAND_VEL] = 0.0                                      # a still hand...
    states[:4, 2, MOCAP] = states[:4, 2, HAND] + torch.tensor([0.0, 0.0, -0.05])  # ...pulled 5 cm: held back
    states[4:, 2, MOCAP] = states[4:, 2, HAND]                        # ...its target on it: free
    actions, valid = torch.rand(8, 2, 4) * 2 - 1, torch.ones(8, 1, dtype=torch.bool)
    hand_only = torch.full((STATE_DIM,), 1e6)
    hand_only[HAND], hand_only[HAND_VEL] = 0.01, 0.1
    gen = torch.Generator().manual_seed(0)

    def loss(rows, scale, w):
        with torch.no_grad():
            return float(rollout_loss(model, states[rows], actions[rows], valid[rows], 0.0, gen, scale.tolist(),
                                      held_weight=w, lead=0.02, speed=0.05))

    held, free, every = slice(0, 4), slice(4, 8), torch.full((STATE_DIM,), 0.01)
    assert loss(held, hand_only, 3.0) == pytest.approx(9.0 * loss(held, hand_only, 1.0), rel=1e-5)
    assert loss(free, every, 3.0) == pytest.approx(loss(free, every, 1.0), rel=1e-6)
    other = every.clone()
    other[HAND], other[HAND_VEL] = 1e6, 1e6                          # only the other variables count
    assert loss(held, other, 3.0) == pytest.approx(loss(held, other, 1.0), rel=1e-6)
    with pytest.raises(ValueError, match="held_weight"):
        SawyerTrainConfig(data="d", out="o", held_weight=0.5).validate()


def test_held_axes_refine_only_the_hands_chosen_axes():
    """``held_axes`` (0 x, 1 y, 2 z) limits the finer units to those axes of the hand's position and
    velocity; an axis outside 0-2 and a held-back speed bound <= 0 are refused."""
    from posttrain.sawyer.config import HAND, HAND_VEL

    torch.manual_seed(0)
    model = SawyerDynamics(SawyerDynamicsConfig(context=2, width=32, layers=1))
    states = torch.randn(4, 3, STATE_DIM) * 0.05
    states[:, :, HAND_VEL] = 0.0
    states[:, 2, MOCAP] = states[:, 2, HAND] + torch.tensor([0.0, 0.0, -0.05])   # every target held back
    actions, valid = torch.rand(4, 2, 4) * 2 - 1, torch.ones(4, 1, dtype=torch.bool)
    gen = torch.Generator().manual_seed(0)

    def loss(axis_counted, w, axes):
        scale = torch.full((STATE_DIM,), 1e6)
        scale[HAND.start + axis_counted], scale[HAND_VEL.start + axis_counted] = 0.01, 0.1
        with torch.no_grad():
            return float(rollout_loss(model, states, actions, valid, 0.0, gen, scale.tolist(), held_weight=w,
                                      lead=0.02, speed=0.05, axes=axes))

    assert loss(1, 3.0, (0, 1)) == pytest.approx(9.0 * loss(1, 1.0, (0, 1)), rel=1e-5)   # y: refined
    assert loss(2, 3.0, (0, 1)) == pytest.approx(loss(2, 1.0, (0, 1)), rel=1e-6)         # z: as before
    with pytest.raises(ValueError, match="held_axes"):
        SawyerTrainConfig(data="d", out="o", held_axes=[3]).validate()
    with pytest.raises(ValueError, match="held_speed"):
        SawyerTrainConfig(data="d", out="o", held_speed=0.0).validate()


def test_held_away_refines_only_where_the_hand_is_far_from_the_object():
    """With ``held_away=d`` the finer units of held-back targets count only where the hand is farther
    than d from the object (resting on the fixed scene), not where it presses on the object."""
    from posttrain.sawyer.config import HAND, HAND_VEL

    torch.manual_seed(0)
    model = SawyerDynamics(SawyerDynamicsConfig(context=2, width=32, layers=1))
    actions, valid = torch.rand(4, 2, 4) * 2 - 1, torch.ones(4, 1, dtype=torch.bool)
    scale = torch.full((STATE_DIM,), 1e6)
    scale[HAND] = 0.01

    def loss(gap, w):
        states = torch.randn(4, 3, STATE_DIM, generator=torch.Generator().manual_seed(1)) * 0.05
        states[:, :, HAND_VEL] = 0.0
        states[:, 2, OBJ] = states[:, 2, HAND] - torch.tensor([0.0, 0.0, gap])
        states[:, 2, MOCAP] = states[:, 2, HAND] + torch.tensor([0.0, 0.0, -0.05])   # every target held back
        with torch.no_grad():
            return float(rollout_loss(model, states, actions, valid, 0.0, torch.Generator().manual_seed(0),
                                      scale.tolist(), held_weight=w, away=0.09))

    assert loss(0.15, 3.0) == pytest.approx(9.0 * loss(0.15, 1.0), rel=1e-5)   # on the scene: refined
    assert loss(0.05, 3.0) == pytest.approx(loss(0.05, 1.0), rel=1e-5)         # on the object: as before
    with pytest.raises(ValueError, match="held_away=-0.1"):
        SawyerTrainConfig(data="d", out="o", held_away=-0.1).validate()
