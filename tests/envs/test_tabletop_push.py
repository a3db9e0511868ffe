"""TabletopPush: physics, reward/success semantics, render-source geometry, bad input."""

import numpy as np
import pytest

from envs.tabletop_push import TabletopPushEnv


@pytest.fixture
def env():
    e = TabletopPushEnv(cameras=("top", "front"), image_size=64)
    yield e
    e.close()


def test_pusher_moves_with_the_commanded_velocity(env):
    obs, _ = env.reset(seed=0)
    start = obs["agent_pos"].copy()
    # steer away from the block so nothing is in the way
    away = np.sign(start - obs["environment_state"][:2]).astype(np.float32)
    for _ in range(3):
        obs, *_ = env.step(away * np.float32(0.5))
    moved = (obs["agent_pos"] - start) * away
    # 0.25 m/s for 0.3 s is at most 7.5 cm per axis; the velocity servo reaches most of it
    assert np.all(moved > 0.03) or np.any(np.abs(obs["agent_pos"]) > 0.27)
    assert np.all(moved < 0.08)


def test_success_reward_and_termination(env):
    env.reset(seed=0)
    goal = env._goal()
    # place the block on the goal by hand: the next step must report success with reward 1
    env.data.qpos[env._qadr["block_x"]] += goal[0] - env._block()[0]
    env.data.qpos[env._qadr["block_y"]] += goal[1] - env._block()[1]
    _, reward, terminated, truncated, info = env.step(np.zeros(2, np.float32))
    assert info["is_success"] and reward == 1.0 and terminated and not truncated


def dense_reward(env) -> float:
    from envs.tabletop_push import state_outcome

    return float(state_outcome(env._pusher(), np.concatenate([env._block(), env._goal()]))[0][0])


def test_dense_reward_is_in_unit_interval_and_grows_towards_goal(env):
    env.reset(seed=3)
    r_far = dense_reward(env)
    assert 0.0 <= r_far < 1.0
    env.data.qpos[env._qadr["block_x"]] += 0.5 * (env._goal()[0] - env._block()[0])
    env.data.qpos[env._qadr["block_y"]] += 0.5 * (env._goal()[1] - env._block()[1])
    import mujoco

    mujoco.mj_forward(env.model, env.data)
    assert dense_reward(env) > r_far


def _project(frame, point):
    """Pixel (row, col) of a world point through the frame's pinhole camera."""
    cam_from_world = np.linalg.inv(frame.extrinsics.astype(np.float64))
    p = cam_from_world @ np.append(point, 1.0)
    uvw = frame.intrinsics @ p[:3]
    return int(uvw[1] / uvw[2]), int(uvw[0] / uvw[2]), p[2]


def test_depth_segmentation_and_camera_parameters_agree(env):
    env.reset(seed=5)
    frames = env.capture(("rgb", "depth", "segmentation"))
    top = frames["top"]
    # the top camera is 0.95 m above the table surface (z = 0) looking straight down, so the
    # planar depth of every table pixel is 0.95 m
    table_id = {v: k for k, v in top.labels.items()}["table"]
    table = top.segmentation == table_id
    assert table.mean() > 0.5
    np.testing.assert_allclose(top.depth[table], 0.95, atol=2e-3)
    for cam, frame in frames.items():
        block_top = np.append(env._block(), 0.05)          # centre of the block's top face
        row, col, z = _project(frame, block_top)
        assert frame.labels[int(frame.segmentation[row, col])] == "block", cam
        assert frame.depth[row, col] == pytest.approx(z, abs=0.01), cam
    assert set(frames["front"].labels.values()) >= {"background", "table", "block", "pusher", "goal"}


def test_rgb_is_reused_by_capture(env):
    obs, _ = env.reset(seed=2)
    frames = env.capture(("rgb",))
    assert np.array_equal(frames["top"].rgb, obs["pixels"]["top"])


@pytest.mark.parametrize("action, message", [
    (np.zeros(3, np.float32), "shape"),
    (np.array([np.nan, 0.0], np.float32), "NaN"),
    (np.array([1.5, 0.0], np.float32), "out of bounds"),
    ("left", "not numeric"),
])
def test_bad_actions_are_rejected(env, action, message):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


@pytest.mark.parametrize("kwargs, message", [
    ({"cameras": ("top", "ceiling")}, "unknown camera 'ceiling'; allowed: top, front, side"),
    ({"image_size": 5}, "image_size=5"),
    ({"image_size": 2048}, "image_size=2048"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TabletopPushEnv(**kwargs)


def test_state_outcome_by_hand():
    """Pusher at the block, block 3 cm from the goal: success, reward 1; block 10 cm away:
    0.2 * (1 - tanh(0)) + 0.8 * (1 - tanh(1)) = 0.2 + 0.8 * 0.23841 = 0.39073."""
    from envs.tabletop_push import state_outcome

    agent = np.array([[0.0, 0.0], [0.1, 0.0]])
    env_state = np.array([[0.0, 0.0, 0.03, 0.0], [0.1, 0.0, 0.1, 0.1]])
    reward, success = state_outcome(agent, env_state)
    assert success.tolist() == [True, False]
    assert reward[0] == 1.0 and abs(reward[1] - 0.39073) < 1e-4
